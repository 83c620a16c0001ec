"""Run by tests/e2e/test_generated_client.py in a throwaway environment, next to a client that
openapi-python-client generated from the served document: sign in, list, read, create, delete and read a 404
through the client's typed models only. Prints what it saw as JSON.

    python client_driver.py <base url>
"""

from __future__ import annotations

import json
import sys
from typing import Any

from freightdesk_client import AuthenticatedClient, Client
from freightdesk_client.api.auth import login
from freightdesk_client.api.carriers import (
    create_carrier,
    delete_carrier,
    get_carrier,
    list_carriers,
)
from freightdesk_client.models import (
    AuthResponseEnvelope,
    CarrierCreate,
    CarrierMetadata,
    CarrierOutEnvelope,
    CarrierPageEnvelope,
    CarrierPricing,
    ErrorBody,
    ListCarriersSortBy,
    ListCarriersSortOrder,
    LoginRequest,
)


def main(base_url: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    signed_in = login.sync(client=anonymous, body=LoginRequest(email="admin@example.com", password="admin123"))
    assert isinstance(signed_in, AuthResponseEnvelope), signed_in
    seen["login"] = {"tokenType": signed_in.data.token_type, "email": signed_in.data.user.email}

    client = AuthenticatedClient(base_url=base_url, token=signed_in.data.access_token, raise_on_unexpected_status=True)
    page = list_carriers.sync(
        client=client,
        page=1,
        limit=5,
        sort_by=ListCarriersSortBy("name"),
        sort_order=ListCarriersSortOrder("ASC"),
        is_active=True,
    )
    assert isinstance(page, CarrierPageEnvelope), page
    names = [carrier.name for carrier in page.data.carriers]
    seen["list"] = {"total": page.data.total, "limit": page.data.limit, "names": names}

    first = get_carrier.sync(client=client, id=page.data.carriers[0].id)
    assert isinstance(first, CarrierOutEnvelope), first
    seen["read"] = {"name": first.data.name, "createdAtType": type(first.data.created_at).__name__}

    body = CarrierCreate(
        name="Generated Client Freight",
        contact_email="ops@generated.example.com",
        metadata=CarrierMetadata(
            code="GEN-1", pricing=CarrierPricing(base_rate=12.5, currency="USD", per_kg_rate=0.75)
        ),
    )
    created = create_carrier.sync(client=client, body=body)
    assert isinstance(created, CarrierOutEnvelope), created
    pricing = created.data.metadata.pricing
    seen["create"] = {
        "statusCode": created.status_code,
        "name": created.data.name,
        "baseRate": pricing.base_rate,
        "perKgRate": pricing.per_kg_rate,
    }

    deleted = delete_carrier.sync_detailed(client=client, id=created.data.id)
    seen["delete"] = {"status": int(deleted.status_code), "content": deleted.content.decode()}

    missing = get_carrier.sync(client=client, id=created.data.id)
    assert isinstance(missing, ErrorBody), missing
    seen["notFound"] = {"statusCode": missing.status_code, "error": missing.error, "message": missing.message}
    return seen


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
