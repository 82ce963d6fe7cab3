//! Attachment bytes, kept apart from the records: a `BlobStore` holds the uploaded files of
//! messages. The embedded store keeps them as files in the data directory, the MongoDB store in
//! GridFS. Which attachments are visible is decided by the messages in the `Store` (the CDN route
//! serves a blob only while a stored message lists it), so a blob left behind by a failed write
//! or a failed clean-up is never shown.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::StoreResult;
use crate::error::StoreError;
use crate::model::Snowflake;

/// Where a blob belongs: its message (so deleting messages finds their files) and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobKey {
    pub channel_id: Snowflake,
    pub message_id: Snowflake,
    pub attachment_id: Snowflake,
}

/// A stored blob and the message it was uploaded with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub message_id: Snowflake,
    pub bytes: Bytes,
}

/// Durable storage of attachment bytes, keyed by channel and attachment id.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores the bytes; when this returns `Ok` they are on stable storage (the message that
    /// lists them is committed only afterwards). Storing an existing key replaces it.
    async fn put_blob(&self, key: BlobKey, bytes: Bytes) -> StoreResult<()>;
    /// The blob of the channel's attachment, if stored.
    async fn blob(
        &self,
        channel_id: Snowflake,
        attachment_id: Snowflake,
    ) -> StoreResult<Option<Blob>>;
    /// Deletes these attachments of the channel (missing ones are skipped).
    async fn delete_blobs(
        &self,
        channel_id: Snowflake,
        attachment_ids: Vec<Snowflake>,
    ) -> StoreResult<()>;
    /// Deletes every blob uploaded with these messages of the channel.
    async fn delete_message_blobs(
        &self,
        channel_id: Snowflake,
        message_ids: Vec<Snowflake>,
    ) -> StoreResult<()>;
    /// Deletes every blob of the channel.
    async fn delete_channel_blobs(&self, channel_id: Snowflake) -> StoreResult<()>;
}

/// Blobs as files under `<data-dir>/attachments`:
/// `<channel>/<attachment>` holds the message id (8 bytes, big-endian) then the bytes, and
/// `<channel>/m<message>/<attachment>` (empty) lists a message's attachments for deletion.
/// Writes go to a temporary name, are fsynced, renamed into place, and the directory fsynced.
#[derive(Debug, Clone)]
pub struct FileBlobStore {
    root: PathBuf,
}

fn io_err(err: std::io::Error) -> StoreError {
    StoreError::Backend(format!("blob store: {err}"))
}

/// Ignores "not found" (deleting what is already gone succeeds).
fn gone_ok(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

impl FileBlobStore {
    /// Blobs under `root` (created on first write).
    pub fn new(root: PathBuf) -> Self {
        FileBlobStore { root }
    }

    fn channel_dir(&self, channel_id: Snowflake) -> PathBuf {
        self.root.join(channel_id.0.to_string())
    }

    async fn blocking<T: Send + 'static>(
        work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| StoreError::Backend(err.to_string()))?
            .map_err(io_err)
    }
}

#[async_trait]
impl BlobStore for FileBlobStore {
    async fn put_blob(&self, key: BlobKey, bytes: Bytes) -> StoreResult<()> {
        let dir = self.channel_dir(key.channel_id);
        let root = self.root.clone();
        Self::blocking(move || {
            use std::io::Write;
            let index = dir.join(format!("m{}", key.message_id.0));
            std::fs::create_dir_all(&index)?;
            // The index entry first: a crash leaves at worst an entry without a file.
            let entry = index.join(key.attachment_id.0.to_string());
            std::fs::File::create(&entry)?.sync_all()?;
            sync_dir(&index)?;
            let temp = dir.join(format!(".tmp-{}", key.attachment_id.0));
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(&key.message_id.0.to_be_bytes())?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&temp, dir.join(key.attachment_id.0.to_string()))?;
            sync_dir(&dir)?;
            sync_dir(&root)
        })
        .await
    }

    async fn blob(
        &self,
        channel_id: Snowflake,
        attachment_id: Snowflake,
    ) -> StoreResult<Option<Blob>> {
        let path = self
            .channel_dir(channel_id)
            .join(attachment_id.0.to_string());
        Self::blocking(move || match std::fs::read(&path) {
            Ok(data) if data.len() >= 8 => {
                let mut id = [0u8; 8];
                id.copy_from_slice(&data[..8]);
                let mut bytes = Bytes::from(data);
                let bytes = bytes.split_off(8);
                Ok(Some(Blob {
                    message_id: Snowflake(u64::from_be_bytes(id)),
                    bytes,
                }))
            }
            Ok(_) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        })
        .await
    }

    async fn delete_blobs(
        &self,
        channel_id: Snowflake,
        attachment_ids: Vec<Snowflake>,
    ) -> StoreResult<()> {
        let dir = self.channel_dir(channel_id);
        Self::blocking(move || {
            for id in attachment_ids {
                gone_ok(std::fs::remove_file(dir.join(id.0.to_string())))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_message_blobs(
        &self,
        channel_id: Snowflake,
        message_ids: Vec<Snowflake>,
    ) -> StoreResult<()> {
        let dir = self.channel_dir(channel_id);
        Self::blocking(move || {
            for message_id in message_ids {
                let index = dir.join(format!("m{}", message_id.0));
                let entries = match std::fs::read_dir(&index) {
                    Ok(entries) => entries,
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(err) => return Err(err),
                };
                for entry in entries {
                    gone_ok(std::fs::remove_file(dir.join(entry?.file_name())))?;
                }
                gone_ok(std::fs::remove_dir_all(&index))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_channel_blobs(&self, channel_id: Snowflake) -> StoreResult<()> {
        let dir = self.channel_dir(channel_id);
        Self::blocking(move || gone_ok(std::fs::remove_dir_all(dir))).await
    }
}

/// Blobs in a GridFS bucket (`attachments.files` / `attachments.chunks`): the file's `_id` is
/// the attachment id, its metadata names the channel and the message.
#[derive(Debug, Clone)]
pub struct GridFsBlobStore {
    bucket: mongodb::gridfs::GridFsBucket,
    /// The bucket's files collection, for its index.
    files: mongodb::Collection<mongodb::bson::Document>,
}

fn mongo_err(err: mongodb::error::Error) -> StoreError {
    StoreError::Backend(format!("gridfs: {err}"))
}

impl GridFsBlobStore {
    /// The `attachments` bucket of the database.
    pub fn new(db: &mongodb::Database) -> Self {
        let options = mongodb::options::GridFsBucketOptions::builder()
            .bucket_name("attachments".to_owned())
            .build();
        GridFsBlobStore {
            bucket: db.gridfs_bucket(options),
            files: db.collection("attachments.files"),
        }
    }

    /// Lookups by channel and by message (deletion) use the file's metadata.
    pub async fn create_indexes(&self) -> StoreResult<()> {
        let keys = mongodb::bson::doc! { "metadata.channel_id": 1, "metadata.message_id": 1 };
        let mut options = mongodb::options::IndexOptions::default();
        options.name = Some("channel_message".to_owned());
        let index = mongodb::IndexModel::builder()
            .keys(keys)
            .options(options)
            .build();
        self.files
            .create_index(index)
            .await
            .map(|_| ())
            .map_err(mongo_err)
    }

    /// Deletes every file matching `filter` (by id, so chunks go too).
    async fn delete_where(&self, filter: mongodb::bson::Document) -> StoreResult<()> {
        use futures_util::TryStreamExt;
        let files: Vec<_> = self
            .bucket
            .find(filter)
            .await
            .map_err(mongo_err)?
            .try_collect()
            .await
            .map_err(mongo_err)?;
        for file in files {
            match self.bucket.delete(file.id).await {
                Ok(()) => {}
                Err(err) if is_file_not_found(&err) => {}
                Err(err) => return Err(mongo_err(err)),
            }
        }
        Ok(())
    }
}

fn is_file_not_found(err: &mongodb::error::Error) -> bool {
    matches!(
        *err.kind,
        mongodb::error::ErrorKind::GridFs(mongodb::error::GridFsErrorKind::FileNotFound { .. })
    )
}

fn i64_of(id: Snowflake) -> i64 {
    id.0 as i64
}

#[async_trait]
impl BlobStore for GridFsBlobStore {
    async fn put_blob(&self, key: BlobKey, bytes: Bytes) -> StoreResult<()> {
        use futures_util::io::AsyncWriteExt;
        use mongodb::bson::{doc, Bson};
        // Replacing: drop an earlier file with the same id first (ids are unique in GridFS).
        self.delete_where(doc! { "_id": i64_of(key.attachment_id) })
            .await?;
        let mut upload = self
            .bucket
            .open_upload_stream(key.attachment_id.0.to_string())
            .id(Bson::Int64(i64_of(key.attachment_id)))
            .metadata(doc! {
                "channel_id": i64_of(key.channel_id),
                "message_id": i64_of(key.message_id),
            })
            .await
            .map_err(mongo_err)?;
        let written = async {
            upload.write_all(&bytes).await?;
            upload.close().await
        }
        .await;
        if let Err(err) = written {
            let _ = upload.abort().await;
            return Err(StoreError::Backend(format!("gridfs upload: {err}")));
        }
        Ok(())
    }

    async fn blob(
        &self,
        channel_id: Snowflake,
        attachment_id: Snowflake,
    ) -> StoreResult<Option<Blob>> {
        use futures_util::io::AsyncReadExt;
        use mongodb::bson::{doc, Bson};
        let Some(file) = self
            .bucket
            .find_one(doc! {
                "_id": i64_of(attachment_id),
                "metadata.channel_id": i64_of(channel_id),
            })
            .await
            .map_err(mongo_err)?
        else {
            return Ok(None);
        };
        let message_id = file
            .metadata
            .as_ref()
            .and_then(|meta| meta.get_i64("message_id").ok())
            .map(|id| Snowflake(id as u64))
            .unwrap_or_default();
        let mut stream = match self
            .bucket
            .open_download_stream(Bson::Int64(i64_of(attachment_id)))
            .await
        {
            Ok(stream) => stream,
            Err(err) if is_file_not_found(&err) => return Ok(None),
            Err(err) => return Err(mongo_err(err)),
        };
        let mut data = Vec::with_capacity(file.length as usize);
        stream
            .read_to_end(&mut data)
            .await
            .map_err(|err| StoreError::Backend(format!("gridfs download: {err}")))?;
        Ok(Some(Blob {
            message_id,
            bytes: Bytes::from(data),
        }))
    }

    async fn delete_blobs(
        &self,
        channel_id: Snowflake,
        attachment_ids: Vec<Snowflake>,
    ) -> StoreResult<()> {
        use mongodb::bson::doc;
        let ids: Vec<i64> = attachment_ids.into_iter().map(i64_of).collect();
        self.delete_where(doc! {
            "_id": { "$in": ids },
            "metadata.channel_id": i64_of(channel_id),
        })
        .await
    }

    async fn delete_message_blobs(
        &self,
        channel_id: Snowflake,
        message_ids: Vec<Snowflake>,
    ) -> StoreResult<()> {
        use mongodb::bson::doc;
        let ids: Vec<i64> = message_ids.into_iter().map(i64_of).collect();
        self.delete_where(doc! {
            "metadata.channel_id": i64_of(channel_id),
            "metadata.message_id": { "$in": ids },
        })
        .await
    }

    async fn delete_channel_blobs(&self, channel_id: Snowflake) -> StoreResult<()> {
        use mongodb::bson::doc;
        self.delete_where(doc! { "metadata.channel_id": i64_of(channel_id) })
            .await
    }
}
