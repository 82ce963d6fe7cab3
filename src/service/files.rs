//! Files: attachments of messages. Uploads are checked and turned into Discord's attachment
//! objects here, their bytes are written durably before the message that lists them is
//! committed, `attachment://name` references in embeds are resolved, the CDN-style route is
//! answered, and bytes are removed after the messages that listed them are gone.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::Service;
use crate::error::{ApiError, FormErrors};
use crate::model::{Attachment, Snowflake};
use crate::store::BlobKey;

/// Most files one message may carry (Discord: 10).
pub const MAX_FILES: usize = 10;
/// Discord's default per-file limit (10 MiB); `--max-upload-bytes` changes it.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// Longest filename / description Discord accepts.
const MAX_NAME_CHARS: usize = 1024;
/// Attachment flag IS_SPOILER.
const SPOILER: u64 = 1 << 3;

/// One uploaded file part of a multipart request (`files[n]`).
#[derive(Debug, Clone)]
pub struct Upload {
    /// `n` of `files[n]` (the part's position for other part names).
    pub index: u64,
    /// The part's `filename`.
    pub filename: String,
    pub bytes: Bytes,
}

/// An entry of a request's `attachments` array: `id` is the `n` of `files[n]` for a new upload,
/// or an existing attachment's id (edits list those to keep).
#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentRef {
    pub id: Snowflake,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_spoiler: Option<bool>,
}

/// Attachments decided for a message: what it will list, and which new bytes to store.
pub(super) struct PlannedAttachments {
    pub attachments: Vec<Attachment>,
    pub new_blobs: Vec<(Snowflake, Bytes)>,
    /// Ids of attachments the message had and no longer lists (edits).
    pub removed: Vec<Snowflake>,
}

/// Discord-like filename clean-up: path parts dropped, anything but letters, digits, `.`, `-`
/// and `_` becomes `_` (so URLs need no escaping).
pub fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.').to_owned();
    if clean.is_empty() {
        "unknown".to_owned()
    } else {
        clean
    }
}

/// The content type: sniffed from image headers, else guessed from the name (text types with
/// `charset=utf-8`, as Discord reports them).
pub fn content_type(filename: &str, bytes: &[u8]) -> Option<String> {
    use imagesize::ImageType;
    let sniffed = imagesize::image_type(bytes).ok().and_then(|kind| {
        Some(match kind {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Gif => "image/gif",
            ImageType::Webp => "image/webp",
            ImageType::Bmp => "image/bmp",
            ImageType::Tiff => "image/tiff",
            ImageType::Ico => "image/x-icon",
            _ => return None,
        })
    });
    if let Some(kind) = sniffed {
        return Some(kind.to_owned());
    }
    let guess = mime_guess::from_path(filename).first()?;
    if guess.type_() == mime_guess::mime::TEXT {
        Some(format!("{}; charset=utf-8", guess.essence_str()))
    } else {
        Some(guess.essence_str().to_owned())
    }
}

impl Service {
    /// The CDN URL of an attachment.
    fn attachment_url(&self, channel_id: Snowflake, id: Snowflake, filename: &str) -> String {
        format!(
            "{}/attachments/{}/{}/{}",
            self.urls.http, channel_id, id, filename
        )
    }

    /// Decides a message's attachments from the request's `attachments` metadata and uploaded
    /// files. `existing` are the message's current attachments (empty when creating): with no
    /// `attachments` given they are all kept; otherwise only those listed stay. Every uploaded
    /// file needs an entry when `attachments` is given, and every new entry a file.
    pub(super) fn plan_attachments(
        &self,
        channel_id: Snowflake,
        refs: Option<Vec<AttachmentRef>>,
        files: Vec<Upload>,
        existing: &[Attachment],
    ) -> Result<PlannedAttachments, ApiError> {
        let mut form = FormErrors::default();
        if files.len() > MAX_FILES {
            form.add(
                &["files"],
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_FILES} or fewer in length."),
            );
            return Err(form.into_error());
        }
        let mut attachments = Vec::new();
        let mut new_blobs = Vec::new();
        let mut used = vec![false; files.len()];
        let mut entries: Vec<(Option<usize>, AttachmentRef)> = Vec::new();
        match refs {
            None => {
                attachments.extend(existing.iter().cloned());
                for (n, file) in files.iter().enumerate() {
                    let entry = AttachmentRef {
                        id: Snowflake(file.index),
                        filename: None,
                        description: None,
                        is_spoiler: None,
                    };
                    entries.push((Some(n), entry));
                }
            }
            Some(refs) => {
                for (i, entry) in refs.into_iter().enumerate() {
                    let i = i.to_string();
                    if let Some(kept) = existing.iter().find(|a| a.id == entry.id) {
                        if attachments.iter().any(|a: &Attachment| a.id == kept.id) {
                            continue;
                        }
                        let mut kept = kept.clone();
                        if let Some(description) = entry.description {
                            kept.description = Some(description).filter(|d| !d.is_empty());
                        }
                        if let Some(spoiler) = entry.is_spoiler {
                            let flags = kept.flags.unwrap_or(0) & !SPOILER;
                            let flags = flags | if spoiler { SPOILER } else { 0 };
                            kept.flags = Some(flags).filter(|f| *f != 0);
                        }
                        attachments.push(kept);
                        continue;
                    }
                    match files.iter().position(|f| f.index == entry.id.0) {
                        Some(n) if !used[n] => {
                            used[n] = true;
                            entries.push((Some(n), entry));
                        }
                        _ => form.add(
                            &["attachments", &i, "id"],
                            "ATTACHMENT_NOT_FOUND",
                            format!("Unknown attachment or file index {}", entry.id.0),
                        ),
                    }
                }
                for (n, file) in files.iter().enumerate() {
                    if !used[n] {
                        form.add(
                            &[&format!("files[{}]", file.index)],
                            "ATTACHMENT_NOT_FOUND",
                            "This file has no entry in attachments.",
                        );
                    }
                }
            }
        }
        form.finish()?;
        let mut form = FormErrors::default();
        if attachments.len() + entries.len() > MAX_FILES {
            return Err(ApiError::new(
                400,
                30015,
                format!("Maximum number of attachments in message reached ({MAX_FILES})"),
            ));
        }
        for (position, (n, entry)) in entries.into_iter().enumerate() {
            let Some(file) = n.and_then(|n| files.get(n)) else {
                continue;
            };
            let path = position.to_string();
            let name = entry.filename.as_deref().unwrap_or(&file.filename);
            if name.chars().count() > MAX_NAME_CHARS {
                form.add(
                    &["attachments", &path, "filename"],
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {MAX_NAME_CHARS} or fewer in length."),
                );
            }
            if entry
                .description
                .as_ref()
                .is_some_and(|d| d.chars().count() > MAX_NAME_CHARS)
            {
                form.add(
                    &["attachments", &path, "description"],
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {MAX_NAME_CHARS} or fewer in length."),
                );
            }
            let filename = sanitize_filename(name);
            let id = self.next_id();
            let size = imagesize::blob_size(&file.bytes).ok();
            let spoiler = entry.is_spoiler == Some(true) || filename.starts_with("SPOILER_");
            let url = self.attachment_url(channel_id, id, &filename);
            attachments.push(Attachment {
                id,
                content_type: content_type(&filename, &file.bytes),
                size: file.bytes.len() as u64,
                proxy_url: url.clone(),
                url,
                filename,
                description: entry.description.filter(|d| !d.is_empty()),
                height: size.map(|s| s.height as u32),
                width: size.map(|s| s.width as u32),
                flags: spoiler.then_some(SPOILER),
            });
            new_blobs.push((id, file.bytes.clone()));
        }
        form.finish()?;
        let removed = existing
            .iter()
            .filter(|old| !attachments.iter().any(|a| a.id == old.id))
            .map(|old| old.id)
            .collect();
        Ok(PlannedAttachments {
            attachments,
            new_blobs,
            removed,
        })
    }

    /// A new attachment for an uploaded file under its own (sanitised) name, not spoilered, in
    /// `channel_id` (an interaction's attachment option).
    pub(super) fn upload_attachment(&self, channel_id: Snowflake, file: &Upload) -> Attachment {
        let filename = sanitize_filename(&file.filename);
        let id = self.next_id();
        let size = imagesize::blob_size(&file.bytes).ok();
        let url = self.attachment_url(channel_id, id, &filename);
        Attachment {
            id,
            content_type: content_type(&filename, &file.bytes),
            size: file.bytes.len() as u64,
            proxy_url: url.clone(),
            url,
            flags: filename.starts_with("SPOILER_").then_some(SPOILER),
            filename,
            description: None,
            height: size.map(|s| s.height as u32),
            width: size.map(|s| s.width as u32),
        }
    }

    /// Writes the new blobs durably; on failure removes what was written and fails.
    pub(super) async fn store_blobs(
        &self,
        channel_id: Snowflake,
        message_id: Snowflake,
        blobs: Vec<(Snowflake, Bytes)>,
    ) -> Result<(), ApiError> {
        let store = self.store.blobs();
        let mut written = Vec::new();
        for (attachment_id, bytes) in blobs {
            let key = BlobKey {
                channel_id,
                message_id,
                attachment_id,
            };
            if let Err(err) = store.put_blob(key, bytes).await {
                tracing::error!(%err, %channel_id, %message_id, "storing an attachment failed");
                written.push(attachment_id);
                self.forget_blobs(channel_id, written).await;
                return Err(ApiError::internal());
            }
            written.push(attachment_id);
        }
        Ok(())
    }

    /// Best-effort removal of attachment bytes (after the change that dropped them is
    /// committed); failures are logged, the bytes are unreachable anyway.
    pub(super) async fn forget_blobs(&self, channel_id: Snowflake, ids: Vec<Snowflake>) {
        if ids.is_empty() {
            return;
        }
        if let Err(err) = self.store.blobs().delete_blobs(channel_id, ids).await {
            tracing::warn!(%err, %channel_id, "deleting attachment bytes failed");
        }
    }

    /// Best-effort removal of the bytes of deleted messages.
    pub(super) async fn forget_message_blobs(&self, channel_id: Snowflake, ids: Vec<Snowflake>) {
        if ids.is_empty() {
            return;
        }
        if let Err(err) = self
            .store
            .blobs()
            .delete_message_blobs(channel_id, ids)
            .await
        {
            tracing::warn!(%err, %channel_id, "deleting attachment bytes of messages failed");
        }
    }

    /// Best-effort removal of the bytes of deleted channels.
    pub(super) async fn forget_channel_blobs(&self, channel_ids: Vec<Snowflake>) {
        for channel_id in channel_ids {
            if let Err(err) = self.store.blobs().delete_channel_blobs(channel_id).await {
                tracing::warn!(%err, %channel_id, "deleting attachment bytes of a channel failed");
            }
        }
    }

    /// `GET /attachments/{channel_id}/{attachment_id}/{filename}`: the bytes of an attachment
    /// that a stored message lists under that name, with its content type. Anything else
    /// (unknown ids, another name, a deleted message or a removed attachment) is not found.
    pub async fn attachment_file(
        &self,
        channel_id: Snowflake,
        attachment_id: Snowflake,
        filename: &str,
    ) -> Result<(Attachment, Bytes), ApiError> {
        let not_found = ApiError::not_found_route;
        let blob = self
            .store
            .blobs()
            .blob(channel_id, attachment_id)
            .await?
            .ok_or_else(not_found)?;
        let attachments = match self.store.message(channel_id, blob.message_id).await? {
            Some(message) => message.attachments,
            // An interaction's attachment options and ephemeral messages: listed by the
            // interaction while it lives.
            None => {
                let record = self
                    .store
                    .interaction(blob.message_id)
                    .await?
                    .filter(|record| record.channel_id == channel_id)
                    .ok_or_else(not_found)?;
                let mut listed: Vec<Attachment> = record
                    .context
                    .get("attachments")
                    .and_then(|list| serde_json::from_value(list.clone()).ok())
                    .unwrap_or_default();
                listed.extend(record.ephemeral.into_iter().flat_map(|m| m.attachments));
                listed
            }
        };
        let attachment = attachments
            .into_iter()
            .find(|a| a.id == attachment_id && a.filename == filename)
            .ok_or_else(not_found)?;
        Ok((attachment, blob.bytes))
    }
}

/// Replaces `attachment://name` in embed image/thumbnail URLs and author/footer icons with the
/// URL of the message's attachment of that name (as Discord does); unknown names stay.
pub(super) fn resolve_attachment_refs(embeds: &mut [Value], attachments: &[Attachment]) {
    for embed in embeds {
        for (object, field) in [
            ("image", "url"),
            ("thumbnail", "url"),
            ("author", "icon_url"),
            ("footer", "icon_url"),
        ] {
            let Some(target) = embed.get_mut(object).and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(name) = target
                .get(field)
                .and_then(Value::as_str)
                .and_then(|url| url.strip_prefix("attachment://"))
            else {
                continue;
            };
            let Some(attachment) = attachments
                .iter()
                .find(|a| a.filename == name || a.filename == sanitize_filename(name))
            else {
                continue;
            };
            target.insert(field.into(), Value::String(attachment.url.clone()));
            let proxy = if field == "url" {
                "proxy_url"
            } else {
                "proxy_icon_url"
            };
            target.insert(proxy.into(), Value::String(attachment.proxy_url.clone()));
            if field == "url" {
                if let (Some(w), Some(h)) = (attachment.width, attachment.height) {
                    target.insert("width".into(), w.into());
                    target.insert("height".into(), h.into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_cleaned() {
        assert_eq!(sanitize_filename("my file (1).png"), "my_file__1_.png");
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename(".."), "unknown");
        assert_eq!(sanitize_filename("héllo.txt"), "h_llo.txt");
    }

    #[test]
    fn content_types_are_sniffed_then_guessed() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x02\0\0\0\x03\x08\x02\0\0\0";
        assert_eq!(content_type("x.txt", png).as_deref(), Some("image/png"));
        assert_eq!(
            content_type("notes.txt", b"hello").as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(content_type("blob", b"\0\x01").as_deref(), None);
    }
}
