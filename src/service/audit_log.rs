//! The guild audit log: what moderators did, with their `X-Audit-Log-Reason`. Operations record
//! an entry right after their own write succeeded (see `record_audit`); `GET
//! /guilds/{id}/audit-logs` reads them and GUILD_AUDIT_LOG_ENTRY_CREATE announces them.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{Caller, Service};
use crate::bus::{Audience, Topic};
use crate::error::ApiError;
use crate::model::audit_log::action;
use crate::model::{AuditLogChange, AuditLogEntry, Snowflake, User, Webhook};
use crate::permissions::{OverwriteKind, PermissionOverwrite, Permissions};
use crate::store::AuditQuery;

/// What an operation wants recorded; the service adds the id, guild and actor.
#[derive(Debug, Clone)]
pub(super) struct Audit {
    pub action: u16,
    pub target: Option<Snowflake>,
    pub changes: Vec<AuditLogChange>,
    pub options: Option<Map<String, Value>>,
    pub reason: Option<String>,
}

impl Audit {
    pub fn new(action: u16, target: Option<Snowflake>, reason: Option<String>) -> Self {
        Audit {
            action,
            target,
            changes: Vec::new(),
            options: None,
            reason,
        }
    }

    pub fn changes(mut self, changes: Vec<AuditLogChange>) -> Self {
        self.changes = changes;
        self
    }

    /// Discord's "optional audit entry info"; every value is sent as a string.
    pub fn options(mut self, options: Value) -> Self {
        if let Value::Object(map) = options {
            let map = map
                .into_iter()
                .map(|(key, value)| {
                    let value = match value {
                        Value::String(_) => value,
                        other => Value::String(other.to_string()),
                    };
                    (key, value)
                })
                .collect();
            self.options = Some(map);
        }
        self
    }
}

/// `GET /guilds/{id}/audit-logs` answer, in Discord's shape (the kinds of object this server
/// does not have are always empty).
#[derive(Debug, Serialize)]
pub struct AuditLogPage {
    pub audit_log_entries: Vec<AuditLogEntry>,
    pub users: Vec<User>,
    pub webhooks: Vec<Webhook>,
    pub integrations: Vec<Value>,
    pub threads: Vec<Value>,
    pub application_commands: Vec<Value>,
    pub auto_moderation_rules: Vec<Value>,
    pub guild_scheduled_events: Vec<Value>,
}

/// Actions whose target is a user (who then appears in `users`).
const USER_TARGETS: &[u16] = &[
    action::MEMBER_KICK,
    action::MEMBER_BAN_ADD,
    action::MEMBER_BAN_REMOVE,
    action::MEMBER_UPDATE,
    action::MEMBER_ROLE_UPDATE,
    action::BOT_ADD,
    action::MESSAGE_DELETE,
    action::MESSAGE_PIN,
    action::MESSAGE_UNPIN,
];

/// Actions whose target is a webhook (which then appears in `webhooks` while it exists).
const WEBHOOK_TARGETS: &[u16] = &[
    action::WEBHOOK_CREATE,
    action::WEBHOOK_UPDATE,
    action::WEBHOOK_DELETE,
];

impl Service {
    /// `GET /guilds/{id}/audit-logs`: VIEW_AUDIT_LOG. Users and webhooks the entries name come
    /// along.
    pub async fn guild_audit_log(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        query: AuditQuery,
    ) -> Result<AuditLogPage, ApiError> {
        self.require_guild(caller, guild_id, Permissions::VIEW_AUDIT_LOG)
            .await?;
        let mut entries = self.store.audit_entries(guild_id, query).await?;
        let mut user_ids = BTreeSet::new();
        let mut webhook_ids = BTreeSet::new();
        for entry in &mut entries {
            entry.guild_id = None;
            user_ids.extend(entry.user_id);
            if let Some(target) = entry.target_id {
                if USER_TARGETS.contains(&entry.action_type) {
                    user_ids.insert(target);
                } else if WEBHOOK_TARGETS.contains(&entry.action_type) {
                    webhook_ids.insert(target);
                }
            }
        }
        let mut users = Vec::new();
        for id in user_ids {
            if let Some(record) = self.store.user(id).await? {
                users.push(record.public());
            }
        }
        let mut webhooks = Vec::new();
        for id in webhook_ids {
            if let Some(mut webhook) = self.store.webhook(id).await? {
                if webhook.guild_id == guild_id {
                    webhook.token = None;
                    webhook.url = None;
                    webhooks.push(webhook);
                }
            }
        }
        Ok(AuditLogPage {
            audit_log_entries: entries,
            users,
            webhooks,
            integrations: Vec::new(),
            threads: Vec::new(),
            application_commands: Vec::new(),
            auto_moderation_rules: Vec::new(),
            guild_scheduled_events: Vec::new(),
        })
    }

    /// Records an entry for a write that has just succeeded and announces it
    /// (GUILD_AUDIT_LOG_ENTRY_CREATE, GUILD_MODERATION intent, VIEW_AUDIT_LOG holders only).
    ///
    /// Not in the write's own transaction: the entry is a second write. If it fails, the
    /// moderation action (already durable and about to be announced) still stands and the
    /// failure is logged, rather than telling the client that a completed action failed.
    pub(super) async fn record_audit(&self, guild_id: Snowflake, actor: Snowflake, audit: Audit) {
        let entry = AuditLogEntry {
            id: self.next_id(),
            guild_id: Some(guild_id),
            target_id: audit.target,
            user_id: Some(actor),
            action_type: audit.action,
            changes: audit.changes,
            options: audit.options,
            reason: audit.reason,
        };
        if let Err(err) = self.store.add_audit_entry(entry.clone()).await {
            tracing::error!(%err, %guild_id, action = entry.action_type, "audit log entry not written");
            return;
        }
        if let Err(err) = self.publish(
            Topic::Guild(guild_id),
            "GUILD_AUDIT_LOG_ENTRY_CREATE",
            &entry,
            Audience::AnyGuildPermission(Permissions::VIEW_AUDIT_LOG.bits()),
            None,
        ) {
            tracing::error!(?err, %guild_id, "audit log event not published");
        }
    }
}

/// The changed top-level fields between two versions of an object (`None`: created or
/// deleted, so every field is new or old), leaving out `skip`.
pub(super) fn changes<T: Serialize>(
    old: Option<&T>,
    new: Option<&T>,
    skip: &[&str],
) -> Vec<AuditLogChange> {
    let as_map = |value: Option<&T>| -> Map<String, Value> {
        match value.map(serde_json::to_value) {
            Some(Ok(Value::Object(map))) => map,
            _ => Map::new(),
        }
    };
    let (old, new) = (as_map(old), as_map(new));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| !skip.contains(&key.as_str()))
        .filter_map(|key| {
            let (before, after) = (
                old.get(key).filter(|v| !v.is_null()),
                new.get(key).filter(|v| !v.is_null()),
            );
            (before != after).then(|| AuditLogChange::new(key, before.cloned(), after.cloned()))
        })
        .collect()
}

/// One CHANNEL_OVERWRITE_CREATE/UPDATE/DELETE entry per overwrite of the channel that was
/// added, changed or removed (`role_name` names a role's overwrite, as Discord does).
pub(super) fn overwrite_audits(
    channel_id: Snowflake,
    before: &[PermissionOverwrite],
    after: &[PermissionOverwrite],
    role_name: impl Fn(Snowflake) -> Option<String>,
    reason: &Option<String>,
) -> Vec<Audit> {
    let find = |list: &[PermissionOverwrite], id: u64| list.iter().find(|o| o.id == id).cloned();
    let mut ids: Vec<u64> = before.iter().chain(after).map(|o| o.id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            let (old, new) = (find(before, id), find(after, id));
            let kind = match (&old, &new) {
                (None, Some(_)) => action::CHANNEL_OVERWRITE_CREATE,
                (Some(_), None) => action::CHANNEL_OVERWRITE_DELETE,
                (Some(a), Some(b)) if a != b => action::CHANNEL_OVERWRITE_UPDATE,
                _ => return None,
            };
            let overwrite = new.as_ref().or(old.as_ref())?;
            let mut options = json!({ "id": Snowflake(id), "type": u8::from(overwrite.kind) });
            if overwrite.kind == OverwriteKind::Role {
                if let Some(name) = role_name(Snowflake(id)) {
                    options["role_name"] = json!(name);
                }
            }
            let changes = changes(old.as_ref(), new.as_ref(), &[]);
            Some(
                Audit::new(kind, Some(channel_id), reason.clone())
                    .changes(changes)
                    .options(options),
            )
        })
        .collect()
}

/// The `$add` / `$remove` changes of a member's roles (`[{id, name}]`, as Discord lists them).
pub(super) fn role_changes(
    added: &[(Snowflake, String)],
    removed: &[(Snowflake, String)],
) -> Vec<AuditLogChange> {
    let list = |roles: &[(Snowflake, String)]| {
        json!(roles
            .iter()
            .map(|(id, name)| json!({ "id": id, "name": name }))
            .collect::<Vec<_>>())
    };
    let mut out = Vec::new();
    if !added.is_empty() {
        out.push(AuditLogChange::new("$add", None, Some(list(added))));
    }
    if !removed.is_empty() {
        out.push(AuditLogChange::new("$remove", None, Some(list(removed))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_list_only_what_differs() {
        let old = json!({ "id": "1", "name": "a", "topic": null, "nsfw": false });
        let new = json!({ "id": "1", "name": "b", "topic": "t", "nsfw": false });
        let diff = changes(Some(&old), Some(&new), &["id"]);
        assert_eq!(
            diff,
            vec![
                AuditLogChange::new("name", Some(json!("a")), Some(json!("b"))),
                AuditLogChange::new("topic", None, Some(json!("t"))),
            ]
        );
        let created = changes(None, Some(&new), &["id"]);
        assert_eq!(created.len(), 3);
        assert!(created.iter().all(|c| c.old_value.is_none()));
    }

    #[test]
    fn options_are_strings() {
        let audit = Audit::new(action::MESSAGE_DELETE, None, None)
            .options(json!({ "channel_id": Snowflake(5), "count": 1 }));
        let options = audit.options.unwrap();
        assert_eq!(options["count"], json!("1"));
        assert_eq!(options["channel_id"], json!("5"));
    }
}
