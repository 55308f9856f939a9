"""Webhooks: register receivers, read their delivery logs, send test events (docs/webhooks.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from starlette.status import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from clipmill.api.deps import MAX_OFFSET, ContainerDep, PrincipalDep
from clipmill.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointListOut,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    SigningSecretOut,
)

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

WebhookId = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


@router.post(
    "/webhooks",
    response_model=EndpointSecretOut,
    status_code=HTTP_201_CREATED,
    summary="Register a webhook (its secret is shown only in this answer)",
)
def create_webhook(
    body: EndpointIn, container: ContainerDep, owner: PrincipalDep
) -> EndpointSecretOut:
    return container.webhooks.create_endpoint(owner, body)


@router.get("/webhooks", response_model=EndpointListOut, summary="List your webhooks")
def list_webhooks(container: ContainerDep, owner: PrincipalDep) -> EndpointListOut:
    return EndpointListOut(items=container.webhooks.list_endpoints(owner))


@router.get(
    "/webhooks/signing-secret",
    response_model=SigningSecretOut,
    summary="The secret that signs deliveries to your jobs' webhook_url",
)
def signing_secret(container: ContainerDep, owner: PrincipalDep) -> SigningSecretOut:
    return container.webhooks.signing_secret(owner)


@router.get("/webhooks/{webhook_id}", response_model=EndpointOut, summary="One webhook")
def get_webhook(webhook_id: WebhookId, container: ContainerDep, owner: PrincipalDep) -> EndpointOut:
    return container.webhooks.get_endpoint(owner, webhook_id)


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=EndpointOut,
    summary="Change a webhook's URL, events, description, or switch it on or off",
)
def update_webhook(
    webhook_id: WebhookId, body: EndpointPatch, container: ContainerDep, owner: PrincipalDep
) -> EndpointOut:
    return container.webhooks.update_endpoint(owner, webhook_id, body)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a webhook and its delivery log",
)
def delete_webhook(webhook_id: WebhookId, container: ContainerDep, owner: PrincipalDep) -> None:
    container.webhooks.delete_endpoint(owner, webhook_id)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response_model=EndpointSecretOut,
    summary="Replace a webhook's secret (the new one is shown only in this answer)",
)
def rotate_secret(
    webhook_id: WebhookId, container: ContainerDep, owner: PrincipalDep
) -> EndpointSecretOut:
    return container.webhooks.rotate_secret(owner, webhook_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="A webhook's deliveries, newest first",
)
def webhook_deliveries(
    webhook_id: WebhookId,
    container: ContainerDep,
    owner: PrincipalDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryPage:
    return container.webhooks.endpoint_deliveries(owner, webhook_id, limit=limit, offset=offset)


@router.post(
    "/webhooks/{webhook_id}/test",
    response_model=DeliveryOut,
    status_code=HTTP_202_ACCEPTED,
    summary="Send a ping event to a webhook",
)
def test_webhook(
    webhook_id: WebhookId, container: ContainerDep, owner: PrincipalDep
) -> DeliveryOut:
    return container.webhooks.send_test(owner, webhook_id)


@router.get(
    "/jobs/{job_id}/webhook-deliveries",
    response_model=DeliveryPage,
    summary="Deliveries to a job's own webhook_url, newest first",
)
def job_webhook_deliveries(
    job_id: Annotated[str, Path(min_length=1, max_length=64)],
    container: ContainerDep,
    owner: PrincipalDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryPage:
    job = container.jobs.get(owner, job_id)
    return container.webhooks.job_deliveries(job.owner_id, job.id, limit=limit, offset=offset)
