"""Tillroll modules and rig controllers as labgrid resources, for racks on many hosts
(docs/rig.md, "Racks with labgrid").

An exporter host publishes, for each place, a `TillrollModule` (the module's data and service
links) and a `TillrollRig` (its rig controller's link), each a TCP port on that host: an
emulated rig's own ports, or a real rig's USB CDC ports behind a raw TCP bridge (ser2net). The
exporter needs nothing of this file: it sends a class it does not know as it is. A client
(labgrid-client, `pytest --lg-env`) imports it to build the place's target (the environment's
`imports:`), and the drivers give the pyserial URLs `tillroll_host.hil.RigTarget` opens.

labgrid comes with its own virtualenv (`make labgrid`), not the project's: it brings a fork of
pyserial that installs the same `serial` package.
"""

from __future__ import annotations

import attr
from labgrid.driver.common import Driver
from labgrid.factory import target_factory
from labgrid.resource.common import NetworkResource
from labgrid.util.proxy import proxymanager

_port = attr.validators.instance_of(int)


@target_factory.reg_resource
@attr.s(eq=False)
class TillrollModule(NetworkResource):
    """A module under test: its data link and its service link, TCP ports on `host`."""

    data_port = attr.ib(validator=_port)
    service_port = attr.ib(validator=_port)


@target_factory.reg_resource
@attr.s(eq=False)
class TillrollRig(NetworkResource):
    """The rig controller on a module's pins (boards/rig_pico): its link, a TCP port on `host`."""

    port = attr.ib(validator=_port)


def _url(resource: NetworkResource, port: int) -> str:
    # Through labgrid's proxy manager: an exporter that asks for it (--isolated) is reached
    # through an SSH forward, as labgrid's own network resources are.
    host, port = proxymanager.get_host_and_port(resource, force_port=port)
    return f"socket://{f'[{host}]' if ':' in host else host}:{port}"


@target_factory.reg_driver
@attr.s(eq=False)
class TillrollModuleDriver(Driver):
    """The module's links as pyserial URLs: `data_url`, `service_url`."""

    bindings = {"module": "TillrollModule"}

    def on_activate(self):
        self._data_url = _url(self.module, self.module.data_port)
        self._service_url = _url(self.module, self.module.service_port)

    @property
    @Driver.check_active
    def data_url(self) -> str:
        return self._data_url

    @property
    @Driver.check_active
    def service_url(self) -> str:
        return self._service_url


@target_factory.reg_driver
@attr.s(eq=False)
class TillrollRigDriver(Driver):
    """The rig controller's link as a pyserial URL: `url`."""

    bindings = {"rig": "TillrollRig"}

    def on_activate(self):
        self._url = _url(self.rig, self.rig.port)

    @property
    @Driver.check_active
    def url(self) -> str:
        return self._url


def place_urls(env, target: str = "main") -> dict[str, str]:
    """The URLs of the rig in labgrid's environment `env` (the place its RemotePlace names,
    acquired): as `tillroll_host.hil.RigTarget` takes them."""
    t = env.get_target(target)
    if t is None:
        raise ValueError(f"no target {target!r} in the labgrid environment")
    module = t.get_driver("TillrollModuleDriver")
    rig = t.get_driver("TillrollRigDriver")
    return {"data_url": module.data_url, "service_url": module.service_url, "rig_url": rig.url}
