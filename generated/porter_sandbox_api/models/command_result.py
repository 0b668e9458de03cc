from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.command_result_output_encoding import CommandResultOutputEncoding
from ..types import UNSET, Unset

T = TypeVar("T", bound="CommandResult")


@_attrs_define
class CommandResult:
    """What a command run with options printed and how it ended; a superset of `ExecResponse`.

    Attributes:
        stdout (str): What it wrote to standard output, as `output_encoding` says. At most the server's cap (the local
            server: 16 MiB); a text stream cut short ends with a line saying so, and `stdout_truncated` is true.
        stderr (str): What it wrote to standard error, as `stdout` is.
        exit_code (int): Its exit code; 127 when the program does not exist, 137 when it was killed (its timeout).
        exec_id (str): The id of this exec, which its log lines carry.
        timed_out (bool): Whether its `timeout_seconds` ran out and its process group was killed.
        output_encoding (CommandResultOutputEncoding): How `stdout` and `stderr` are encoded.
        stdout_truncated (bool | Unset): Whether `stdout` was cut short at the server's cap.
        stderr_truncated (bool | Unset): Whether `stderr` was cut short at the server's cap.
    """

    stdout: str
    stderr: str
    exit_code: int
    exec_id: str
    timed_out: bool
    output_encoding: CommandResultOutputEncoding
    stdout_truncated: bool | Unset = UNSET
    stderr_truncated: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        stdout = self.stdout

        stderr = self.stderr

        exit_code = self.exit_code

        exec_id = self.exec_id

        timed_out = self.timed_out

        output_encoding = self.output_encoding.value

        stdout_truncated = self.stdout_truncated

        stderr_truncated = self.stderr_truncated

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "stdout": stdout,
                "stderr": stderr,
                "exit_code": exit_code,
                "exec_id": exec_id,
                "timed_out": timed_out,
                "output_encoding": output_encoding,
            }
        )
        if stdout_truncated is not UNSET:
            field_dict["stdout_truncated"] = stdout_truncated
        if stderr_truncated is not UNSET:
            field_dict["stderr_truncated"] = stderr_truncated

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        stdout = d.pop("stdout")

        stderr = d.pop("stderr")

        exit_code = d.pop("exit_code")

        exec_id = d.pop("exec_id")

        timed_out = d.pop("timed_out")

        output_encoding = CommandResultOutputEncoding(d.pop("output_encoding"))

        stdout_truncated = d.pop("stdout_truncated", UNSET)

        stderr_truncated = d.pop("stderr_truncated", UNSET)

        command_result = cls(
            stdout=stdout,
            stderr=stderr,
            exit_code=exit_code,
            exec_id=exec_id,
            timed_out=timed_out,
            output_encoding=output_encoding,
            stdout_truncated=stdout_truncated,
            stderr_truncated=stderr_truncated,
        )

        command_result.additional_properties = d
        return command_result

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
