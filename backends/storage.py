"""Object storage blocks for Tempo and Loki. Credentials come from the environment
or workload identity (IRSA, GKE/Azure workload identity), never from the file."""
from __future__ import annotations

from settings.model import ObjectStorage


def s3_endpoint(store: ObjectStorage) -> str:
    if store.endpoint:
        return store.endpoint
    return f"s3.{store.region}.amazonaws.com" if store.region else "s3.amazonaws.com"


def azure_account(store: ObjectStorage, key: str) -> tuple[str, str]:
    """(account name, endpoint suffix) from an endpoint like `acct.blob.core.windows.net`."""
    if not store.endpoint or "." not in store.endpoint:
        raise ValueError(f"{key}.endpoint: azure needs the storage account's blob endpoint, "
                         "e.g. myaccount.blob.core.windows.net")
    host = store.endpoint.split("://")[-1].rstrip("/")
    account, suffix = host.split(".", 1)
    return account, suffix
