//! Who is calling: user JWTs (sent raw, as Discord's own client does) and Discord-format bot
//! tokens (`base64(id).base64(issued).hmac`), both signed with the server's secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{check_length, Service};
use crate::error::{ApiError, FormErrors, StoreError};
use crate::model::{CurrentUser, Snowflake, User};
use crate::store::UserRecord;

/// The authenticated caller of a request or gateway session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: CurrentUser,
}

impl Caller {
    pub fn id(&self) -> Snowflake {
        self.user.user.id
    }
    pub fn is_bot(&self) -> bool {
        self.user.user.bot
    }
    /// Refuses bots on routes that are for user accounts only.
    pub fn require_user(&self) -> Result<(), ApiError> {
        if self.is_bot() {
            Err(ApiError::bots_forbidden())
        } else {
            Ok(())
        }
    }
}

/// `POST /auth/register` body.
#[derive(Debug, Deserialize)]
pub struct Registration {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /auth/login` body.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    pub login: String,
    pub password: String,
}

/// What a user token asserts.
#[derive(Debug, Serialize, Deserialize)]
struct UserClaims {
    sub: String,
    iat: u64,
}

type HmacSha256 = Hmac<Sha256>;

impl Service {
    /// Creates a user account and returns `{token, user_id}`.
    pub async fn register(&self, body: Registration) -> Result<serde_json::Value, ApiError> {
        let mut form = FormErrors::default();
        check_length(&mut form, "username", &body.username, 2, 32);
        if body.password.chars().count() < 8 || body.password.len() > 512 {
            form.add(
                &["password"],
                "PASSWORD_TOO_WEAK",
                "Password must be at least 8 characters long.",
            );
        }
        if let Some(email) = &body.email {
            if !email.contains('@') || email.len() > 320 {
                form.add(
                    &["email"],
                    "EMAIL_TYPE_INVALID_EMAIL",
                    "Not a well formed email address.",
                );
            }
        }
        form.finish()?;

        let hash = hash_password(body.password).await?;
        let user = User::new(self.next_id(), body.username, false);
        let record = UserRecord {
            user: CurrentUser::new(user, body.email),
            password_hash: Some(hash),
        };
        let user_id = record.user.user.id;
        match self.store.create_user(record).await {
            Ok(()) => {}
            Err(StoreError::Conflict(field @ ("username" | "email"))) => {
                let code = if field == "username" {
                    "USERNAME_ALREADY_TAKEN"
                } else {
                    "EMAIL_ALREADY_REGISTERED"
                };
                return Err(ApiError::invalid_field(
                    &[field],
                    code,
                    format!("This {field} is already taken."),
                ));
            }
            Err(err) => return Err(err.into()),
        }
        Ok(serde_json::json!({ "token": self.user_token(user_id)?, "user_id": user_id }))
    }

    /// Checks a username/email and password and returns `{token, user_id}`.
    pub async fn login(&self, body: Credentials) -> Result<serde_json::Value, ApiError> {
        let invalid = || {
            let mut form = FormErrors::default();
            for field in ["login", "password"] {
                form.add(&[field], "INVALID_LOGIN", "Login or password is invalid.");
            }
            form.into_error()
        };
        let record = self
            .store
            .user_by_login(&body.login)
            .await?
            .ok_or_else(invalid)?;
        let hash = record.password_hash.clone().ok_or_else(invalid)?;
        if !verify_password(body.password, hash).await? {
            return Err(invalid());
        }
        let user_id = record.user.user.id;
        Ok(serde_json::json!({ "token": self.user_token(user_id)?, "user_id": user_id }))
    }

    /// Resolves an `Authorization` header value: `Bot <token>` or a raw user token.
    pub async fn authenticate(&self, header: &str) -> Result<Caller, ApiError> {
        let header = header.trim();
        if let Some(token) = header.strip_prefix("Bot ") {
            return self.authenticate_bot(token.trim()).await;
        }
        if header.starts_with("Bearer ") {
            // OAuth2 bearer tokens are not issued by this server.
            return Err(ApiError::unauthorized());
        }
        self.authenticate_user(header).await
    }

    /// Resolves a gateway IDENTIFY token, which comes with or without the `Bot ` prefix.
    pub async fn authenticate_gateway(&self, token: &str) -> Result<Caller, ApiError> {
        let token = token.trim();
        match token.strip_prefix("Bot ") {
            Some(bot) => self.authenticate_bot(bot.trim()).await,
            None if token.starts_with("eyJ") => self.authenticate_user(token).await,
            None => self.authenticate_bot(token).await,
        }
    }

    /// The caller with this user id, from the store: behind a verified token, or behind an
    /// identified gateway session (which keeps only the user's id); a user deleted since is
    /// unauthorized.
    pub async fn caller(&self, user_id: Snowflake) -> Result<Caller, ApiError> {
        let record = self
            .store
            .user(user_id)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Caller { user: record.user })
    }

    async fn authenticate_user(&self, token: &str) -> Result<Caller, ApiError> {
        let key = jsonwebtoken::DecodingKey::from_secret(&self.secret);
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<UserClaims>(token, &key, &validation)
            .map_err(|_| ApiError::unauthorized())?
            .claims;
        let user_id = Snowflake::parse(&claims.sub).ok_or_else(ApiError::unauthorized)?;
        let caller = self.caller(user_id).await?;
        if caller.is_bot() {
            return Err(ApiError::unauthorized());
        }
        Ok(caller)
    }

    async fn authenticate_bot(&self, token: &str) -> Result<Caller, ApiError> {
        let (bot_id, issued_ms) = self
            .verify_bot_token(token)
            .ok_or_else(ApiError::unauthorized)?;
        // The signature proves we issued it; the store says whether a reset has replaced it.
        if self.store.bot_token_issued(bot_id).await? != issued_ms {
            return Err(ApiError::unauthorized());
        }
        self.caller(bot_id).await
    }

    fn user_token(&self, user_id: Snowflake) -> Result<String, ApiError> {
        let claims = UserClaims {
            sub: user_id.to_string(),
            iat: chrono::Utc::now().timestamp() as u64,
        };
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&self.secret),
        )
        .map_err(|err| {
            tracing::error!(%err, "signing a user token failed");
            ApiError::internal()
        })
    }

    /// Makes a bot token in Discord's three-part format.
    pub(super) fn bot_token(&self, bot_id: Snowflake, issued_ms: u64) -> String {
        let head = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(bot_id.to_string()),
            URL_SAFE_NO_PAD.encode(issued_ms.to_be_bytes())
        );
        let signature = self.sign(head.as_bytes());
        format!("{head}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Checks the signature without touching the store; returns (bot id, issue time).
    fn verify_bot_token(&self, token: &str) -> Option<(Snowflake, u64)> {
        let mut parts = token.split('.');
        let (id_part, issued_part, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.secret).ok()?;
        mac.update(format!("{id_part}.{issued_part}").as_bytes());
        mac.verify_slice(&signature).ok()?;
        let id = String::from_utf8(URL_SAFE_NO_PAD.decode(id_part).ok()?).ok()?;
        let issued: [u8; 8] = URL_SAFE_NO_PAD.decode(issued_part).ok()?.try_into().ok()?;
        Some((Snowflake::parse(&id)?, u64::from_be_bytes(issued)))
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

/// Each argon2 run takes 19 MiB and a core for tens of milliseconds; unbounded, a burst of
/// registrations or logins filled the blocking pool and the heap (14 GB at 64 at once). At most
/// one run per core at a time; the rest wait their turn.
fn password_work() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

async fn hash_password(password: String) -> Result<String, ApiError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let _turn = password_work()
        .acquire()
        .await
        .map_err(|_| ApiError::internal())?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|err| {
        tracing::error!(%err, "password hashing failed");
        ApiError::internal()
    })
}

async fn verify_password(password: String, hash: String) -> Result<bool, ApiError> {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let _turn = password_work()
        .acquire()
        .await
        .map_err(|_| ApiError::internal())?;
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(|_| ApiError::internal())
}
