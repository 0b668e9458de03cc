from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.command_request_output_encoding import CommandRequestOutputEncoding
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.string_map import StringMap


T = TypeVar("T", bound="CommandRequest")


@_attrs_define
class CommandRequest:
    """A command to run through the extensions, with what a plain exec cannot say.

    Attributes:
        command (list[str]): The program and its arguments, such as `["python", "-c", "print(1)"]`.
        stdin (str | Unset): Text to write to the command's stdin (UTF-8), which is then closed unless `stdin_open`.
        stdin_base64 (str | Unset): Bytes to write to its stdin, base64; instead of `stdin`.
        stdin_open (bool | Unset): Keep its stdin open after `stdin` for writes through `POST
            .../processes/{process_id}/stdin` (streamed execs and background processes); closed there with `close=true`.
        cwd (str | Unset): Its working directory, an absolute path; the sandbox's when absent. One that does not exist
            exits 126.
        env (StringMap | Unset): String keys to string values.
        timeout_seconds (float | Unset): Kill the command's whole process group (`SIGKILL`) once it has run this long;
            the answer then says `timed_out`.
        output_encoding (CommandRequestOutputEncoding | Unset): How `POST /x/v1/sandbox/{id}/exec` answers the output:
            `text` (UTF-8, invalid bytes replaced; the default) or `base64` (the bytes exactly). Streams always carry
            base64.
    """

    command: list[str]
    stdin: str | Unset = UNSET
    stdin_base64: str | Unset = UNSET
    stdin_open: bool | Unset = UNSET
    cwd: str | Unset = UNSET
    env: StringMap | Unset = UNSET
    timeout_seconds: float | Unset = UNSET
    output_encoding: CommandRequestOutputEncoding | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        command = self.command

        stdin = self.stdin

        stdin_base64 = self.stdin_base64

        stdin_open = self.stdin_open

        cwd = self.cwd

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        timeout_seconds = self.timeout_seconds

        output_encoding: str | Unset = UNSET
        if not isinstance(self.output_encoding, Unset):
            output_encoding = self.output_encoding.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "command": command,
            }
        )
        if stdin is not UNSET:
            field_dict["stdin"] = stdin
        if stdin_base64 is not UNSET:
            field_dict["stdin_base64"] = stdin_base64
        if stdin_open is not UNSET:
            field_dict["stdin_open"] = stdin_open
        if cwd is not UNSET:
            field_dict["cwd"] = cwd
        if env is not UNSET:
            field_dict["env"] = env
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds
        if output_encoding is not UNSET:
            field_dict["output_encoding"] = output_encoding

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.string_map import StringMap

        d = dict(src_dict)
        command = cast(list[str], d.pop("command"))

        stdin = d.pop("stdin", UNSET)

        stdin_base64 = d.pop("stdin_base64", UNSET)

        stdin_open = d.pop("stdin_open", UNSET)

        cwd = d.pop("cwd", UNSET)

        _env = d.pop("env", UNSET)
        env: StringMap | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = StringMap.from_dict(_env)

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        _output_encoding = d.pop("output_encoding", UNSET)
        output_encoding: CommandRequestOutputEncoding | Unset
        if isinstance(_output_encoding, Unset):
            output_encoding = UNSET
        else:
            output_encoding = CommandRequestOutputEncoding(_output_encoding)

        command_request = cls(
            command=command,
            stdin=stdin,
            stdin_base64=stdin_base64,
            stdin_open=stdin_open,
            cwd=cwd,
            env=env,
            timeout_seconds=timeout_seconds,
            output_encoding=output_encoding,
        )

        command_request.additional_properties = d
        return command_request

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
