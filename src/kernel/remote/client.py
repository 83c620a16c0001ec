"""The client side: an object implementing a module's Protocol by calling the process that hosts the module.

`protocol_client(CarrierDirectory, remote)` returns an object with every method of the Protocol (so it passes
the `runtime_checkable` check); each call goes to the owning process through `remote` (`RemoteModule`, one
per module: its HTTP client, its circuit breaker, this process's service token). What a caller sees:

- the return value, decoded by the method's return annotation, or the domain error the implementation raised
  (kernel.remote.protocols);
- `ModuleUnavailable` (a 503 `carrier module unavailable` with `Retry-After`) when no answer came: no
  connection, no answer within `FREIGHTDESK_SERVICE_TIMEOUT`, the circuit open, or an answer that is not one
  (a 5xx, the service token refused, a route the process does not serve).

Only methods marked `@idempotent` are tried again (`FREIGHTDESK_SERVICE_RETRIES` times, after 50 ms, 100 ms,
… capped at 1 s), and only after failures that leave the first attempt's effect in no doubt worth the risk: a
connection refused or dropped, a 502/503/504. A timeout is not retried: the call has used its time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from kernel.contracts.errors import DomainError, ServiceUnavailable
from kernel.correlation import HEADER as CORRELATION_HEADER
from kernel.correlation import current_correlation_id
from kernel.health import CHECK_TIMEOUT_SECONDS, DEGRADED, HEALTHY, Check
from kernel.remote.circuit import OPEN, CircuitBreaker
from kernel.remote.protocols import (
    HOSTED_PATH,
    INTERNAL_PREFIX,
    MethodSpec,
    decode_error,
    protocol_methods,
    rebuild_error,
)
from kernel.remote.tokens import ServiceTokens
from kernel.settings import Settings, SettingsError

log = logging.getLogger("freightdesk.remote")

RETRIED_STATUSES = frozenset({502, 503, 504})
BACKOFF_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 1.0


class ModuleUnavailable(ServiceUnavailable):
    """A module hosted by another process gave no answer; the HTTP layer renders it as a 503."""

    def __init__(self, module: str, retry_after: int = 1) -> None:
        super().__init__(f"{module} module unavailable", retry_after)
        self.module = module


@dataclass(frozen=True)
class CallPolicy:
    connect_timeout: float
    timeout: float
    """The whole of one attempt: connecting, sending, waiting for and reading the answer."""
    retries: int
    circuit_failures: int
    circuit_open_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> CallPolicy:
        return cls(
            connect_timeout=settings.service_connect_timeout_seconds,
            timeout=settings.service_timeout_seconds,
            retries=settings.service_retries,
            circuit_failures=settings.service_circuit_failures,
            circuit_open_seconds=settings.service_circuit_open_seconds,
        )


@dataclass(frozen=True)
class _Answer:
    value: Any = None
    error: DomainError | None = None


@dataclass(frozen=True)
class _Failure:
    reason: str
    retryable: bool
    cause: BaseException | None = None


class RemoteModule:
    """Calls to one module hosted by another process, at its `<MODULE>_SERVICE_URL`."""

    def __init__(
        self,
        module: str,
        base_url: str,
        tokens: ServiceTokens,
        policy: CallPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.module = module
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.policy = policy
        self.circuit = CircuitBreaker(policy.circuit_failures, policy.circuit_open_seconds, clock)
        self._transport = transport
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"RemoteModule({self.module!r}, {self.base_url!r})"

    def _http(self) -> httpx.AsyncClient:
        """One pooled client per event loop (the CLI seeds in one loop, the server runs in another)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                transport=self._transport,
                timeout=httpx.Timeout(self.policy.timeout, connect=self.policy.connect_timeout),
                follow_redirects=False,
                trust_env=False,  # calls between the processes of a deployment never go through a proxy
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.aclose()

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens.issue()}", "Content-Type": "application/json"}
        correlation_id = current_correlation_id()
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        return headers

    def unavailable(self) -> ModuleUnavailable:
        wait = self.circuit.seconds_until_probe() if self.circuit.state == OPEN else 0.0
        return ModuleUnavailable(self.module, retry_after=max(math.ceil(wait), 1))

    async def invoke(self, spec: MethodSpec, arguments: bytes) -> Any:
        """Send one call (and, for an idempotent method, its retries); its value, or raise."""
        attempts = 1 + (self.policy.retries if spec.idempotent else 0)
        for attempt in range(1, attempts + 1):
            if not self.circuit.admit():
                raise self.unavailable()
            try:
                outcome = await self._attempt(spec, arguments)
            except BaseException:
                self.circuit.released()
                raise
            if isinstance(outcome, _Answer):
                if self.circuit.succeeded():
                    log.info("calls answered again; circuit closed", extra={"target_module": self.module})
                if outcome.error is not None:
                    raise outcome.error
                return outcome.value
            self._record_failure(spec, attempt, outcome)
            if not outcome.retryable or attempt == attempts:
                raise self.unavailable() from outcome.cause
            await self._sleep(min(BACKOFF_SECONDS * 2 ** (attempt - 1), BACKOFF_CAP_SECONDS) * random.uniform(0.5, 1))  # noqa: S311 - jitter
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _record_failure(self, spec: MethodSpec, attempt: int, failure: _Failure) -> None:
        opened = self.circuit.failed()
        context = {"target_module": self.module, "call": spec.label, "attempt": attempt, "reason": failure.reason}
        log.warning("call to another process failed", extra=context)
        if opened:
            log.error(
                "circuit opened: calls fail at once until a probe succeeds",
                extra={"target_module": self.module, "open_seconds": self.policy.circuit_open_seconds},
            )

    async def _attempt(self, spec: MethodSpec, arguments: bytes) -> _Answer | _Failure:
        try:
            async with asyncio.timeout(self.policy.timeout):
                response = await self._http().post(
                    INTERNAL_PREFIX + spec.path, content=arguments, headers=self._headers()
                )
        except TimeoutError as exc:
            return _Failure(f"no answer within {self.policy.timeout:g} s", retryable=False, cause=exc)
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
            return _Failure(f"no answer within {self.policy.timeout:g} s", retryable=False, cause=exc)
        except httpx.TransportError as exc:  # refused, reset, dropped before the answer: retry an idempotent call
            return _Failure(f"unreachable ({type(exc).__name__})", retryable=True, cause=exc)
        if response.status_code == 200:
            try:
                return _Answer(value=spec.decode_result(response.content))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                return _Failure(f"its answer does not match {spec.label}: {exc}", retryable=False, cause=exc)
        error = decode_error(response.content)
        if error is not None:
            rebuilt = rebuild_error(spec.protocol, error, _retry_after(response))
            if rebuilt is not None:
                return _Answer(error=rebuilt)
        return _Failure(self._refusal(spec, response.status_code), retryable=response.status_code in RETRIED_STATUSES)

    def _refusal(self, spec: MethodSpec, status: int) -> str:
        if status == 401:
            return "answered 401: it refused the service token (FREIGHTDESK_SERVICE_SECRET differs between processes)"
        if status in {404, 405}:
            return f"answered {status}: it does not serve {spec.label} (is {self.module} hosted at {self.base_url}?)"
        if status == 400:
            return f"answered 400: it does not accept these arguments of {spec.label} (another version?)"
        return f"answered {status}"

    async def check(self) -> Check:
        """For the process health: does the process answer, accept this process's token, host the module?"""
        started = time.perf_counter()
        circuit = self.circuit.state

        def result(reachable: bool, message: str | None = None) -> Check:
            check: Check = {
                "status": HEALTHY if message is None else DEGRADED,
                "reachable": reachable,
                "circuit": circuit,
                "latencyMs": round((time.perf_counter() - started) * 1000, 2),
            }
            if message is not None:
                check["message"] = message
            return check

        try:
            async with asyncio.timeout(min(CHECK_TIMEOUT_SECONDS, self.policy.timeout)):
                response = await self._http().get(INTERNAL_PREFIX + HOSTED_PATH, headers=self._headers())
        except TimeoutError:
            return result(False, "no answer in time")
        except httpx.HTTPError as exc:
            return result(False, f"unreachable ({type(exc).__name__})")
        if response.status_code == 401:
            return result(True, "refuses this process's service token (FREIGHTDESK_SERVICE_SECRET differs)")
        try:
            hosted = msgspec.json.decode(response.content, type=HostedDocument) if response.status_code == 200 else None
        except (msgspec.DecodeError, msgspec.ValidationError):
            hosted = None
        if hosted is None:
            return result(True, f"answered {response.status_code} to the service probe")
        if self.module not in hosted.modules:
            return result(True, f"answers, but does not host {self.module}")
        return result(True)


class HostedDocument(msgspec.Struct, kw_only=True):
    """`GET /internal/v1/hosted`."""

    modules: list[str]
    protocols: dict[str, list[str]]


def _retry_after(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _remote_method(spec: MethodSpec, remote: RemoteModule) -> Callable[..., Awaitable[Any]]:
    async def call(self: object, *args: Any, **kwargs: Any) -> Any:
        return await remote.invoke(spec, spec.encode_call(args, kwargs))

    call.__name__ = spec.name
    call.__qualname__ = f"Remote{spec.protocol.__name__}.{spec.name}"
    call.__doc__ = f"{spec.label} of the {spec.module} module, called over HTTP."
    return call


def protocol_client(protocol: type[Any], remote: RemoteModule) -> object:
    """An object implementing `protocol` by calling `remote` (its class: `Remote<Protocol>`)."""
    namespace: dict[str, Any] = {
        spec.name: _remote_method(spec, remote) for spec in protocol_methods(remote.module, protocol)
    }
    namespace["__repr__"] = lambda self: f"Remote{protocol.__name__}({remote.base_url!r})"
    namespace["_remote"] = remote
    return type(f"Remote{protocol.__name__}", (), namespace)()


class RemoteModules:
    """This process's clients of the modules hosted elsewhere: one `RemoteModule` per module, made on first
    need and shared by all of that module's Protocols."""

    def __init__(
        self,
        settings: Settings,
        caller: Sequence[str],
        transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self._settings = settings
        self._caller = ",".join(caller) or "freightdesk"
        self._transports = transports or {}
        self._modules: dict[str, RemoteModule] = {}
        self._tokens: ServiceTokens | None = None

    @property
    def modules(self) -> list[RemoteModule]:
        return list(self._modules.values())

    def client(self, protocol: type[Any], module: str, url: str) -> object:
        """A `protocol` client calling `module` at `url`."""
        remote = self._modules.get(module)
        if remote is None:
            remote = RemoteModule(
                module,
                url,
                self._service_tokens(module),
                CallPolicy.from_settings(self._settings),
                transport=self._transports.get(module),
            )
            self._modules[module] = remote
        return protocol_client(protocol, remote)

    def _service_tokens(self, module: str) -> ServiceTokens:
        if self._tokens is None:
            secret = self._settings.service_token_secret()
            if secret is None:
                raise SettingsError(
                    f"FREIGHTDESK_SERVICE_SECRET: needed to call the {module} module in another process"
                )
            self._tokens = ServiceTokens(secret, self._caller)
        return self._tokens

    async def aclose(self) -> None:
        for remote in self._modules.values():
            await remote.aclose()
