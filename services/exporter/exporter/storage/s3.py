"""PDFs in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2...), through aiobotocore. The bucket
stays private: clients get exporter's signed link, and exporter streams the object to them.

A file larger than one part is uploaded in parts read one at a time from the rendered temp file,
so a large transcript is never held whole in memory."""

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from exporter.storage import CHUNK_BYTES, StorageUnavailable, StoredPdf, pdf_key

# S3 takes parts of 5 MiB at least (but the last); files up to one part go in a single request.
PART_BYTES = 8 * 1024 * 1024
_MISSING = {"NoSuchKey", "404", "NotFound"}
_PART_CHECKSUMS = {"ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256"}


class S3PdfStore:
    def __init__(
        self,
        *,
        bucket: str,
        key_prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: SecretStr | None = None,
        secret_access_key: SecretStr | None = None,
        part_bytes: int = PART_BYTES,
    ) -> None:
        self._bucket = bucket
        self._prefix = key_prefix
        self._endpoint_url = endpoint_url
        self._region = region
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._part_bytes = part_bytes
        self._exit = contextlib.AsyncExitStack()
        self._client: Any = None

    async def start(self) -> None:
        config = AioConfig(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # Other S3 implementations are reached by path (no per-bucket DNS names), and many
            # refuse the checksum headers botocore now adds to every upload unless asked to.
            **(
                {
                    "s3": {"addressing_style": "path"},
                    "request_checksum_calculation": "when_required",
                    "response_checksum_validation": "when_required",
                }
                if self._endpoint_url
                else {}
            ),
        )
        # Without keys, botocore's usual chain decides (environment, web identity, instance role).
        keys = (
            {
                "aws_access_key_id": self._access_key_id.get_secret_value(),
                "aws_secret_access_key": self._secret_access_key.get_secret_value(),
            }
            if self._access_key_id and self._secret_access_key
            else {}
        )
        self._client = await self._exit.enter_async_context(
            get_session().create_client(
                "s3", region_name=self._region, endpoint_url=self._endpoint_url, config=config, **keys
            )
        )

    async def close(self) -> None:
        await self._exit.aclose()
        self._client = None

    def key_for(self, job_id: UUID) -> str:
        return f"{self._prefix}{pdf_key(job_id)}"

    async def put(self, job_id: UUID, source: Path) -> str:
        key = self.key_for(job_id)
        stream = await asyncio.to_thread(source.open, "rb")
        try:
            if os.fstat(stream.fileno()).st_size <= self._part_bytes:
                body = await asyncio.to_thread(stream.read)
                await self._client.put_object(
                    Bucket=self._bucket, Key=key, Body=body, ContentType="application/pdf"
                )
            else:
                await self._put_in_parts(key, stream)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 did not store {key}: {exc}") from exc
        finally:
            stream.close()
        return key

    async def _put_in_parts(self, key: str, stream: BinaryIO) -> None:
        """A multipart upload: the object appears whole at completion, or not at all."""
        target = {"Bucket": self._bucket, "Key": key}
        upload_id = (await self._client.create_multipart_upload(**target, ContentType="application/pdf"))[
            "UploadId"
        ]
        try:
            parts = []
            number = 1
            while part := await asyncio.to_thread(stream.read, self._part_bytes):
                answer = await self._client.upload_part(
                    **target, UploadId=upload_id, PartNumber=number, Body=part
                )
                # A part's checksum, when botocore sent one, must be repeated at completion.
                checksums = {name: value for name, value in answer.items() if name in _PART_CHECKSUMS}
                parts.append({"PartNumber": number, "ETag": answer["ETag"], **checksums})
                number += 1
            await self._client.complete_multipart_upload(
                **target, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            # Also when the run is cancelled (its lease lost): parts left behind are billed.
            with contextlib.suppress(BotoCoreError, ClientError):
                await self._client.abort_multipart_upload(**target, UploadId=upload_id)
            raise

    async def open(self, key: str) -> StoredPdf | None:
        try:
            answer = await self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise StorageUnavailable(f"S3 did not answer for {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 did not answer for {key}: {exc}") from exc
        body = answer["Body"]
        return StoredPdf(answer["ContentLength"], body.iter_chunks(CHUNK_BYTES), body.aclose)

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete_object(Bucket=self._bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 did not delete {key}: {exc}") from exc
