//! Applications, their bot users and bot tokens, and adding a bot to a guild (OAuth2 `bot`
//! scope, as Discord's own client submits it).

use serde::Deserialize;
use serde_json::{json, Value};

use super::audit_log::Audit;
use super::{check_length, Caller, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::application::flags as app_flags;
use crate::model::audit_log::action;
use crate::model::{Application, CurrentUser, Member, Role, RoleTags, Snowflake, User};
use crate::permissions::Permissions;
use crate::store::UserRecord;

/// `PATCH /applications/@me` and `/applications/{id}` body; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
pub struct ApplicationPatch {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub flags: Option<u64>,
}

/// Body and query of `POST /oauth2/authorize` merged: the body wins where both say something.
#[derive(Debug, Deserialize)]
pub struct AuthorizeBot {
    pub client_id: Snowflake,
    pub scope: String,
    pub guild_id: Option<Snowflake>,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub authorize: bool,
}

impl Service {
    /// Creates an application owned by the caller, with its bot user (same id).
    pub async fn create_application(
        &self,
        caller: &Caller,
        name: String,
    ) -> Result<Application, ApiError> {
        caller.require_user()?;
        let mut form = FormErrors::default();
        check_length(&mut form, "name", &name, 2, 32);
        form.finish()?;

        let id = self.next_id();
        let bot = User::new(id, name.clone(), true);
        let app = Application {
            id,
            name,
            icon: None,
            description: String::new(),
            summary: String::new(),
            kind: None,
            bot_public: true,
            bot_require_code_grant: false,
            verify_key: random_hex(32),
            flags: app_flags::DEFAULT,
            team: None,
            owner: caller.user.user.clone(),
            bot: bot.clone(),
            rpc_origins: Vec::new(),
            terms_of_service_url: None,
            privacy_policy_url: None,
            guild_id: None,
            approximate_guild_count: 0,
            interactions_endpoint_url: None,
            tags: Vec::new(),
        };
        let bot_record = UserRecord {
            user: CurrentUser::new(bot, None),
            password_hash: None,
        };
        self.store
            .create_application(app.clone(), bot_record)
            .await?;
        Ok(app)
    }

    /// Issues a new bot token; the previous one stops working at once.
    pub async fn reset_bot_token(
        &self,
        caller: &Caller,
        app_id: Snowflake,
    ) -> Result<Value, ApiError> {
        caller.require_user()?;
        let app = self.owned_application(caller, app_id).await?;
        let previous = self.store.bot_token_issued(app.id).await?;
        let issued = (chrono::Utc::now().timestamp_millis() as u64).max(previous + 1);
        self.store.set_bot_token_issued(app.id, issued).await?;
        Ok(json!({ "token": self.bot_token(app.id, issued) }))
    }

    /// The application of the calling bot (`/applications/@me`).
    pub async fn current_application(&self, caller: &Caller) -> Result<Application, ApiError> {
        if !caller.is_bot() {
            return Err(ApiError::unknown_application());
        }
        self.store
            .application(caller.id())
            .await?
            .ok_or_else(ApiError::unknown_application)
    }

    /// Edits an application: its bot (`/applications/@me`) or its owner (`/applications/{id}`).
    /// Of the flags only the limited gateway-intent ones can change.
    pub async fn update_application(
        &self,
        caller: &Caller,
        app_id: Option<Snowflake>,
        patch: ApplicationPatch,
    ) -> Result<Application, ApiError> {
        let mut app = match app_id {
            None => self.current_application(caller).await?,
            Some(id) => {
                caller.require_user()?;
                self.owned_application(caller, id).await?
            }
        };
        let mut form = FormErrors::default();
        if let Some(description) = &patch.description {
            check_length(&mut form, "description", description, 0, 400);
        }
        if let Some(flags) = patch.flags {
            if (flags ^ app.flags) & !app_flags::SETTABLE != 0 {
                form.add(
                    &["flags"],
                    "BASE_TYPE_CHOICES",
                    "Only the limited gateway intent flags can be changed.",
                );
            }
        }
        form.finish()?;
        if let Some(description) = patch.description {
            app.description = description;
        }
        if let Some(flags) = patch.flags {
            app.flags = flags;
        }
        self.store.update_application(app.clone()).await?;
        Ok(app)
    }

    /// Whether the bot's application allows these privileged intents (GUILD_MEMBERS,
    /// GUILD_PRESENCES, MESSAGE_CONTENT); users' sessions are not restricted.
    pub async fn privileged_intents_allowed(
        &self,
        caller: &Caller,
        intents: u64,
    ) -> Result<bool, ApiError> {
        if !caller.is_bot() {
            return Ok(true);
        }
        let flags = self
            .store
            .application(caller.id())
            .await?
            .map_or(0, |app| app.flags);
        let allowed = |intent: u64, full: u64, limited: u64| {
            intents & intent == 0 || flags & (full | limited) != 0
        };
        Ok(allowed(
            1 << 1,
            app_flags::GATEWAY_GUILD_MEMBERS,
            app_flags::GATEWAY_GUILD_MEMBERS_LIMITED,
        ) && allowed(
            1 << 8,
            app_flags::GATEWAY_PRESENCE,
            app_flags::GATEWAY_PRESENCE_LIMITED,
        ) && allowed(
            1 << 15,
            app_flags::GATEWAY_MESSAGE_CONTENT,
            app_flags::GATEWAY_MESSAGE_CONTENT_LIMITED,
        ))
    }

    async fn owned_application(
        &self,
        caller: &Caller,
        app_id: Snowflake,
    ) -> Result<Application, ApiError> {
        match self.store.application(app_id).await? {
            Some(app) if app.owner.id == caller.id() => Ok(app),
            _ => Err(ApiError::unknown_application()),
        }
    }

    /// Adds an application's bot to a guild with a managed role carrying `permissions`. The
    /// caller needs MANAGE_GUILD and can only grant permissions it holds itself.
    pub async fn authorize_bot(
        &self,
        caller: &Caller,
        request: AuthorizeBot,
    ) -> Result<Value, ApiError> {
        caller.require_user()?;
        let mut form = FormErrors::default();
        if !request
            .scope
            .split([' ', '+', ','])
            .any(|scope| scope == "bot")
        {
            form.add(
                &["scope"],
                "BASE_TYPE_CHOICES",
                "Only the bot scope is supported.",
            );
        }
        let Some(guild_id) = request.guild_id else {
            form.add(
                &["guild_id"],
                "BASE_TYPE_REQUIRED",
                "This field is required",
            );
            return Err(form.into_error());
        };
        form.finish()?;
        let app = self
            .store
            .application(request.client_id)
            .await?
            .ok_or_else(ApiError::unknown_application)?;
        let access = self.guild_access(caller, guild_id).await?;
        access.require(Permissions::MANAGE_GUILD)?;
        let location = json!({ "location": format!("{}/oauth2/authorized", self.urls.http) });
        if !request.authorize || self.store.member(guild_id, app.id).await?.is_some() {
            return Ok(location);
        }

        let mut role = Role::new(
            self.next_id(),
            app.name.clone(),
            request.permissions & access.base(),
            1,
        );
        role.managed = true;
        role.tags = Some(RoleTags {
            bot_id: Some(app.id),
        });
        let member = Member::new(guild_id, app.bot.clone(), vec![role.id]);
        self.store
            .add_member(member.clone(), Some(role.clone()))
            .await?;
        let audit = Audit::new(action::BOT_ADD, Some(app.id), None);
        self.record_audit(guild_id, caller.id(), audit).await;

        self.publish(
            Topic::Guild(guild_id),
            "GUILD_ROLE_CREATE",
            &json!({ "guild_id": guild_id, "role": role }),
            Audience::Everyone,
            None,
        )?;
        self.announce_join(guild_id, &member).await?;
        Ok(location)
    }
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}
