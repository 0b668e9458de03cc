from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.resources import Resources
    from ..models.sandbox_egress_spec import SandboxEgressSpec
    from ..models.sandbox_networking_spec import SandboxNetworkingSpec
    from ..models.string_map import StringMap


T = TypeVar("T", bound="SandboxSpec")


@_attrs_define
class SandboxSpec:
    """What to run in a new sandbox.

    Attributes:
        image (str): The container image to run, such as `python:3.12-slim`. Empty when `snapshot_id` is set: the
            snapshot's image is used.
        snapshot_id (str | Unset): Start from this ready snapshot's files instead of a fresh image (leave `image`
            empty). The snapshot carries no command, environment or volumes: an omitted command runs the image's own, and
            only the volumes this request names are mounted.
        name (str | Unset): A DNS label: 1 to 63 characters of `a-z`, `0-9` and `-`, starting and ending with a letter
            or digit.
        tags (StringMap | Unset): String keys to string values.
        command (list[str] | Unset): The entrypoint to run instead of the image's.
        args (list[str] | Unset): Arguments to the command.
        env (StringMap | Unset): String keys to string values.
        env_groups (list[str] | Unset): Names of environment groups configured on the server whose variables the sandbox
            gets, merged in order (a later group wins on a conflict) and under `env` (an explicit variable wins over any
            group's). An unknown group is a 400 naming it.
        volume_mounts (StringMap | Unset): String keys to string values.
        resources (Resources | Unset): The most a sandbox may use, as Kubernetes quantities.
        ttl_seconds (int | Unset): Terminate the sandbox (reason `ttl_expired`) this many seconds after it starts
            running; at most 3153600000 (a century).
        networking (list[SandboxNetworkingSpec] | Unset): Ports the sandbox serves. On the local server (process
            runtime, root server) each port is served through the server at `http://<port>-<name>.localhost:<server port>/`
            (its `host`), HTTP and WebSocket; an `internal` port instead gets an `internal_address` that other sandboxes of
            the server reach. A runtime that cannot serve ports refuses the create with 400.
        egress (SandboxEgressSpec | Unset): Where the sandbox may connect to.
    """

    image: str
    snapshot_id: str | Unset = UNSET
    name: str | Unset = UNSET
    tags: StringMap | Unset = UNSET
    command: list[str] | Unset = UNSET
    args: list[str] | Unset = UNSET
    env: StringMap | Unset = UNSET
    env_groups: list[str] | Unset = UNSET
    volume_mounts: StringMap | Unset = UNSET
    resources: Resources | Unset = UNSET
    ttl_seconds: int | Unset = UNSET
    networking: list[SandboxNetworkingSpec] | Unset = UNSET
    egress: SandboxEgressSpec | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        image = self.image

        snapshot_id = self.snapshot_id

        name = self.name

        tags: dict[str, Any] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags.to_dict()

        command: list[str] | Unset = UNSET
        if not isinstance(self.command, Unset):
            command = self.command

        args: list[str] | Unset = UNSET
        if not isinstance(self.args, Unset):
            args = self.args

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        env_groups: list[str] | Unset = UNSET
        if not isinstance(self.env_groups, Unset):
            env_groups = self.env_groups

        volume_mounts: dict[str, Any] | Unset = UNSET
        if not isinstance(self.volume_mounts, Unset):
            volume_mounts = self.volume_mounts.to_dict()

        resources: dict[str, Any] | Unset = UNSET
        if not isinstance(self.resources, Unset):
            resources = self.resources.to_dict()

        ttl_seconds = self.ttl_seconds

        networking: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.networking, Unset):
            networking = []
            for networking_item_data in self.networking:
                networking_item = networking_item_data.to_dict()
                networking.append(networking_item)

        egress: dict[str, Any] | Unset = UNSET
        if not isinstance(self.egress, Unset):
            egress = self.egress.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "image": image,
            }
        )
        if snapshot_id is not UNSET:
            field_dict["snapshot_id"] = snapshot_id
        if name is not UNSET:
            field_dict["name"] = name
        if tags is not UNSET:
            field_dict["tags"] = tags
        if command is not UNSET:
            field_dict["command"] = command
        if args is not UNSET:
            field_dict["args"] = args
        if env is not UNSET:
            field_dict["env"] = env
        if env_groups is not UNSET:
            field_dict["env_groups"] = env_groups
        if volume_mounts is not UNSET:
            field_dict["volume_mounts"] = volume_mounts
        if resources is not UNSET:
            field_dict["resources"] = resources
        if ttl_seconds is not UNSET:
            field_dict["ttl_seconds"] = ttl_seconds
        if networking is not UNSET:
            field_dict["networking"] = networking
        if egress is not UNSET:
            field_dict["egress"] = egress

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.resources import Resources
        from ..models.sandbox_egress_spec import SandboxEgressSpec
        from ..models.sandbox_networking_spec import SandboxNetworkingSpec
        from ..models.string_map import StringMap

        d = dict(src_dict)
        image = d.pop("image")

        snapshot_id = d.pop("snapshot_id", UNSET)

        name = d.pop("name", UNSET)

        _tags = d.pop("tags", UNSET)
        tags: StringMap | Unset
        if isinstance(_tags, Unset):
            tags = UNSET
        else:
            tags = StringMap.from_dict(_tags)

        command = cast(list[str], d.pop("command", UNSET))

        args = cast(list[str], d.pop("args", UNSET))

        _env = d.pop("env", UNSET)
        env: StringMap | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = StringMap.from_dict(_env)

        env_groups = cast(list[str], d.pop("env_groups", UNSET))

        _volume_mounts = d.pop("volume_mounts", UNSET)
        volume_mounts: StringMap | Unset
        if isinstance(_volume_mounts, Unset):
            volume_mounts = UNSET
        else:
            volume_mounts = StringMap.from_dict(_volume_mounts)

        _resources = d.pop("resources", UNSET)
        resources: Resources | Unset
        if isinstance(_resources, Unset):
            resources = UNSET
        else:
            resources = Resources.from_dict(_resources)

        ttl_seconds = d.pop("ttl_seconds", UNSET)

        _networking = d.pop("networking", UNSET)
        networking: list[SandboxNetworkingSpec] | Unset = UNSET
        if _networking is not UNSET:
            networking = []
            for networking_item_data in _networking:
                networking_item = SandboxNetworkingSpec.from_dict(networking_item_data)

                networking.append(networking_item)

        _egress = d.pop("egress", UNSET)
        egress: SandboxEgressSpec | Unset
        if isinstance(_egress, Unset):
            egress = UNSET
        else:
            egress = SandboxEgressSpec.from_dict(_egress)

        sandbox_spec = cls(
            image=image,
            snapshot_id=snapshot_id,
            name=name,
            tags=tags,
            command=command,
            args=args,
            env=env,
            env_groups=env_groups,
            volume_mounts=volume_mounts,
            resources=resources,
            ttl_seconds=ttl_seconds,
            networking=networking,
            egress=egress,
        )

        sandbox_spec.additional_properties = d
        return sandbox_spec

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
