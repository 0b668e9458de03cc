from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ExecTarget")


@_attrs_define
class ExecTarget:
    """Where an interactive exec into the sandbox would go.

    Attributes:
        namespace (str): The namespace the sandbox runs in.
        pod_name (str): The pod or container that runs the sandbox.
        container_name (str): The container inside it.
    """

    namespace: str
    pod_name: str
    container_name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        pod_name = self.pod_name

        container_name = self.container_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "namespace": namespace,
                "pod_name": pod_name,
                "container_name": container_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        namespace = d.pop("namespace")

        pod_name = d.pop("pod_name")

        container_name = d.pop("container_name")

        exec_target = cls(
            namespace=namespace,
            pod_name=pod_name,
            container_name=container_name,
        )

        exec_target.additional_properties = d
        return exec_target

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
