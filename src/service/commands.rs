//! Application commands: global and guild commands of an application, created, listed, edited,
//! deleted and bulk-overwritten by the application's bot (or its owner), with Discord's
//! validation of names, descriptions, options, choices and limits.

use serde::Deserialize;
use serde_json::Value;

use super::{Caller, Service};
use crate::error::{ApiError, FormErrors};
use crate::model::command::{
    option_type, Localizations, CHAT_INPUT, MESSAGE_COMMAND, USER_COMMAND,
};
use crate::model::{Application, ApplicationCommand, CommandOption, Snowflake};
use crate::permissions::Permissions;

/// Most chat-input commands per scope (global, or one guild), and of each context-menu type.
const MAX_CHAT_INPUT: usize = 100;
const MAX_CONTEXT_MENU: usize = 5;
/// Most commands an application may create per scope and day (Discord: 200).
const MAX_DAILY_CREATES: u64 = 200;
/// Most options per level, and choices per option.
const MAX_OPTIONS: usize = 25;
/// Largest magnitude of an integer or number option (Discord: 2^53).
const MAX_SAFE_NUMBER: f64 = 9_007_199_254_740_992.0;

/// The locales Discord accepts as keys of `*_localizations`.
const LOCALES: &[&str] = &[
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th",
    "zh-CN", "ja", "zh-TW", "ko",
];

/// A command as a client sends it (create, edit, bulk overwrite). On edit, absent fields stay.
#[derive(Debug, Default, Deserialize)]
pub struct CommandInput {
    /// Bulk overwrite may name an existing command by id.
    #[serde(default)]
    pub id: Option<Snowflake>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub name_localizations: Option<Option<Localizations>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub description_localizations: Option<Option<Localizations>>,
    #[serde(default)]
    pub options: Option<Vec<CommandOption>>,
    /// A decimal string (or an integer) of permission bits, or `null` for everyone.
    #[serde(default, with = "super::double_option")]
    pub default_member_permissions: Option<Option<Value>>,
    #[serde(default)]
    pub dm_permission: Option<bool>,
    #[serde(default, rename = "type")]
    pub kind: Option<u8>,
    #[serde(default)]
    pub nsfw: Option<bool>,
    #[serde(default)]
    pub integration_types: Option<Vec<u8>>,
    #[serde(default, with = "super::double_option")]
    pub contexts: Option<Option<Vec<u8>>>,
}

/// Where a command lives.
#[derive(Debug, Clone, Copy)]
pub struct CommandScope {
    pub application_id: Snowflake,
    /// `None`: a global command.
    pub guild_id: Option<Snowflake>,
}

impl Service {
    /// The application whose commands the caller manages: its own bot, or its owner's user
    /// token (Discord's Bearer client-credentials stand-in). Anything else is 50001.
    pub(super) async fn commands_application(
        &self,
        caller: &Caller,
        scope: CommandScope,
    ) -> Result<Application, ApiError> {
        let app = self
            .store
            .application(scope.application_id)
            .await?
            .ok_or_else(ApiError::missing_access)?;
        let allowed = if caller.is_bot() {
            caller.id() == app.id
        } else {
            caller.id() == app.owner.id
        };
        if !allowed {
            return Err(ApiError::missing_access());
        }
        if let Some(guild_id) = scope.guild_id {
            // Guild commands need the application in the guild (as Discord needs the
            // applications.commands scope there).
            if self.store.member(guild_id, app.id).await?.is_none() {
                return Err(ApiError::missing_access());
            }
        }
        Ok(app)
    }

    /// `POST .../commands`: a new command (201, `true`) or, when one of the same name and type
    /// exists, that one overwritten (200, `false`).
    pub async fn create_command(
        &self,
        caller: &Caller,
        scope: CommandScope,
        input: CommandInput,
    ) -> Result<(ApplicationCommand, bool), ApiError> {
        self.commands_application(caller, scope).await?;
        let existing = self
            .store
            .commands(scope.application_id, scope.guild_id)
            .await?;
        let kind = input.kind.unwrap_or(CHAT_INPUT);
        let name = input.name.clone().unwrap_or_default();
        let same = existing
            .iter()
            .find(|c| c.kind == kind && c.name == name)
            .cloned();
        let mut form = FormErrors::default();
        let command = self.build_command(scope, input, same.as_ref(), &mut form, &[]);
        form.finish()?;
        let command = command.ok_or_else(ApiError::internal)?;
        if same.is_none() {
            check_limits(existing.iter().chain(std::iter::once(&command)))?;
            self.count_creates(scope, 1).await?;
        }
        self.store.put_command(command.clone()).await?;
        Ok((command, same.is_none()))
    }

    /// `GET .../commands` (`with_localizations` keeps the localisation maps).
    pub async fn list_commands(
        &self,
        caller: &Caller,
        scope: CommandScope,
        with_localizations: bool,
    ) -> Result<Vec<Value>, ApiError> {
        self.commands_application(caller, scope).await?;
        let commands = self
            .store
            .commands(scope.application_id, scope.guild_id)
            .await?;
        commands
            .iter()
            .map(|command| {
                let mut value = serde_json::to_value(command).map_err(|_| ApiError::internal())?;
                if !with_localizations {
                    strip_localizations(&mut value);
                }
                Ok(value)
            })
            .collect()
    }

    /// One command of the scope, or 10063.
    pub async fn get_command(
        &self,
        caller: &Caller,
        scope: CommandScope,
        command_id: Snowflake,
    ) -> Result<ApplicationCommand, ApiError> {
        self.commands_application(caller, scope).await?;
        self.scoped_command(scope, command_id).await
    }

    async fn scoped_command(
        &self,
        scope: CommandScope,
        command_id: Snowflake,
    ) -> Result<ApplicationCommand, ApiError> {
        match self.store.command(scope.application_id, command_id).await? {
            Some(command) if command.guild_id == scope.guild_id => Ok(command),
            _ => Err(unknown_command()),
        }
    }

    /// `PATCH .../commands/{id}`: absent fields stay; the version changes.
    pub async fn edit_command(
        &self,
        caller: &Caller,
        scope: CommandScope,
        command_id: Snowflake,
        input: CommandInput,
    ) -> Result<ApplicationCommand, ApiError> {
        self.commands_application(caller, scope).await?;
        let current = self.scoped_command(scope, command_id).await?;
        let mut form = FormErrors::default();
        let command = self.build_command(scope, input, Some(&current), &mut form, &[]);
        form.finish()?;
        let command = command.ok_or_else(ApiError::internal)?;
        let others = self
            .store
            .commands(scope.application_id, scope.guild_id)
            .await?;
        if others
            .iter()
            .any(|c| c.id != command.id && c.kind == command.kind && c.name == command.name)
        {
            return Err(duplicate_name(&[]));
        }
        self.store.put_command(command.clone()).await?;
        Ok(command)
    }

    /// `DELETE .../commands/{id}`.
    pub async fn delete_command(
        &self,
        caller: &Caller,
        scope: CommandScope,
        command_id: Snowflake,
    ) -> Result<(), ApiError> {
        self.commands_application(caller, scope).await?;
        self.scoped_command(scope, command_id).await?;
        if !self
            .store
            .delete_command(scope.application_id, command_id)
            .await?
        {
            return Err(unknown_command());
        }
        Ok(())
    }

    /// `PUT .../commands`: the scope's commands become exactly `inputs`. A command keeps its id
    /// when named by id or by the same name and type; its version changes only if it did.
    pub async fn overwrite_commands(
        &self,
        caller: &Caller,
        scope: CommandScope,
        inputs: Vec<CommandInput>,
    ) -> Result<Vec<ApplicationCommand>, ApiError> {
        self.commands_application(caller, scope).await?;
        let existing = self
            .store
            .commands(scope.application_id, scope.guild_id)
            .await?;
        let mut form = FormErrors::default();
        let mut built: Vec<ApplicationCommand> = Vec::new();
        for (index, input) in inputs.into_iter().enumerate() {
            let index = index.to_string();
            let kind = input.kind.unwrap_or(CHAT_INPUT);
            let previous = match input.id {
                Some(id) => existing.iter().find(|c| c.id == id),
                None => existing
                    .iter()
                    .find(|c| Some(&c.name) == input.name.as_ref() && c.kind == kind),
            };
            // A bulk overwrite replaces the whole command: start from its id only.
            let previous = previous.map(|c| ApplicationCommand {
                options: Vec::new(),
                ..c.clone()
            });
            let Some(command) =
                self.build_command(scope, input, previous.as_ref(), &mut form, &[&index])
            else {
                continue;
            };
            if built
                .iter()
                .any(|c| c.kind == command.kind && c.name == command.name)
            {
                form.add(
                    &[&index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                );
            }
            let unchanged = existing.iter().find(|c| c.id == command.id).filter(|c| {
                ApplicationCommand {
                    version: command.version,
                    ..(*c).clone()
                } == command
            });
            built.push(match unchanged {
                Some(same) => same.clone(),
                None => command,
            });
        }
        form.finish()?;
        check_limits(built.iter())?;
        let created = built
            .iter()
            .filter(|c| !existing.iter().any(|e| e.id == c.id))
            .count();
        self.count_creates(scope, created as u64).await?;
        self.store
            .replace_commands(scope.application_id, scope.guild_id, built.clone())
            .await?;
        Ok(built)
    }

    /// Counts `created` new commands against the scope's daily allowance: 30034 once the
    /// application has created more than 200 in the scope today (UTC).
    async fn count_creates(&self, scope: CommandScope, created: u64) -> Result<(), ApiError> {
        if created == 0 {
            return Ok(());
        }
        let day = chrono::Utc::now().timestamp().max(0) as u64 / 86_400;
        let count = self
            .store
            .count_command_create(
                scope.application_id,
                scope.guild_id.map_or(0, |g| g.0),
                day,
                created,
            )
            .await?;
        if count > MAX_DAILY_CREATES {
            return Err(ApiError::new(
                400,
                30034,
                format!(
                    "Max number of daily application command creates has been reached ({MAX_DAILY_CREATES})"
                ),
            ));
        }
        Ok(())
    }

    /// Validates `input` (merged over `current` for edits) into a command; errors go into
    /// `form` under `prefix`. A new id and version are made as needed.
    fn build_command(
        &self,
        scope: CommandScope,
        input: CommandInput,
        current: Option<&ApplicationCommand>,
        form: &mut FormErrors,
        prefix: &[&str],
    ) -> Option<ApplicationCommand> {
        let mut errors = Errors { form, prefix };
        let kind = input.kind.or(current.map(|c| c.kind)).unwrap_or(CHAT_INPUT);
        if current.is_some_and(|c| c.kind != kind) {
            errors.add(
                &["type"],
                "BASE_TYPE_CHOICES",
                "The command type cannot be changed.",
            );
        }
        if ![CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND].contains(&kind) {
            errors.add(
                &["type"],
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2, 3}.",
            );
            return None;
        }
        let Some(name) = input.name.or(current.map(|c| c.name.clone())) else {
            errors.add(&["name"], "BASE_TYPE_REQUIRED", "This field is required");
            return None;
        };
        let description = input
            .description
            .or(current.map(|c| c.description.clone()))
            .unwrap_or_default();
        let chat = kind == CHAT_INPUT;
        if chat {
            check_name(&mut errors, &["name"], &name);
            check_description(&mut errors, &["description"], &description);
        } else {
            let len = name.chars().count();
            if !(1..=32).contains(&len) {
                errors.add(
                    &["name"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 32 in length.",
                );
            }
            if !description.is_empty() {
                errors.add(
                    &["description"],
                    "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                    "Context menu commands cannot have a description",
                );
            }
        }
        let name_localizations = input
            .name_localizations
            .unwrap_or(current.and_then(|c| c.name_localizations.clone()));
        let description_localizations = input
            .description_localizations
            .unwrap_or(current.and_then(|c| c.description_localizations.clone()));
        check_localizations(
            &mut errors,
            "name_localizations",
            name_localizations.as_ref(),
            chat,
            true,
        );
        check_localizations(
            &mut errors,
            "description_localizations",
            description_localizations.as_ref(),
            chat,
            false,
        );
        let options = match input.options {
            Some(options) => options,
            None => current.map(|c| c.options.clone()).unwrap_or_default(),
        };
        if !chat && !options.is_empty() {
            errors.add(
                &["options"],
                "APPLICATION_COMMAND_OPTIONS_INVALID",
                "Context menu commands cannot have options",
            );
        }
        let options = check_options(&mut errors, &["options".to_owned()], options, 0);
        let default_member_permissions = match input.default_member_permissions {
            None => current.and_then(|c| c.default_member_permissions.clone()),
            Some(None) | Some(Some(Value::Null)) => None,
            Some(Some(raw)) => {
                let text = match &raw {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) if n.is_u64() => Some(n.to_string()),
                    _ => None,
                };
                match text.as_deref().and_then(Permissions::from_wire) {
                    Some(bits) => Some(bits.bits().to_string()),
                    None => {
                        errors.add(
                            &["default_member_permissions"],
                            "NUMBER_TYPE_COERCE",
                            format!("Value \"{raw}\" is not int."),
                        );
                        None
                    }
                }
            }
        };
        let integration_types = input
            .integration_types
            .or(current.map(|c| c.integration_types.clone()))
            .unwrap_or_else(|| vec![0]);
        for (i, t) in integration_types.iter().enumerate() {
            if *t > 1 {
                errors.add(
                    &["integration_types", &i.to_string()],
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {0, 1}.",
                );
            }
        }
        let contexts = match input.contexts {
            Some(contexts) => contexts,
            None => current.and_then(|c| c.contexts.clone()),
        };
        for (i, c) in contexts.iter().flatten().enumerate() {
            if *c > 2 {
                errors.add(
                    &["contexts", &i.to_string()],
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {0, 1, 2}.",
                );
            }
        }
        let id = current.map_or_else(|| self.next_id(), |c| c.id);
        Some(ApplicationCommand {
            id,
            kind,
            application_id: scope.application_id,
            guild_id: scope.guild_id,
            name,
            name_localizations,
            description,
            description_localizations,
            options,
            default_member_permissions,
            dm_permission: if scope.guild_id.is_none() {
                Some(
                    input
                        .dm_permission
                        .or(current.and_then(|c| c.dm_permission))
                        .unwrap_or(true),
                )
            } else {
                None
            },
            nsfw: input.nsfw.or(current.map(|c| c.nsfw)).unwrap_or(false),
            integration_types,
            contexts,
            version: self.next_id(),
        })
    }
}

/// Errors under a path prefix (a bulk overwrite's index).
struct Errors<'a, 'b> {
    form: &'a mut FormErrors,
    prefix: &'b [&'b str],
}

impl Errors<'_, '_> {
    fn add(&mut self, path: &[&str], code: &str, message: impl Into<String>) {
        let full: Vec<&str> = self.prefix.iter().chain(path.iter()).copied().collect();
        self.form.add(&full, code, message);
    }
}

pub fn unknown_command() -> ApiError {
    ApiError::new(404, 10063, "Unknown application command")
}

fn duplicate_name(path: &[&str]) -> ApiError {
    let mut full = path.to_vec();
    full.push("name");
    ApiError::invalid_field(
        &full,
        "APPLICATION_COMMANDS_DUPLICATE_NAME",
        "Application command names must be unique",
    )
}

/// 30032 when the scope would hold more commands of a type than Discord allows.
fn check_limits<'a>(
    commands: impl Iterator<Item = &'a ApplicationCommand>,
) -> Result<(), ApiError> {
    let mut counts = [0usize; 4];
    for command in commands {
        counts[usize::from(command.kind.min(3))] += 1;
    }
    for (kind, max) in [
        (CHAT_INPUT, MAX_CHAT_INPUT),
        (USER_COMMAND, MAX_CONTEXT_MENU),
        (MESSAGE_COMMAND, MAX_CONTEXT_MENU),
    ] {
        if counts[usize::from(kind)] > max {
            return Err(ApiError::new(
                400,
                30032,
                format!("Maximum number of application commands reached ({max})"),
            ));
        }
    }
    Ok(())
}

/// Discord's rule for chat-input command and option names:
/// `^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`, lowercase where a letter has cases.
pub fn valid_chat_name(name: &str) -> bool {
    let len = name.chars().count();
    (1..=32).contains(&len)
        && name.chars().all(|c| {
            c == '-'
                || c == '_'
                || c.is_alphanumeric()
                || ('\u{0900}'..='\u{097F}').contains(&c)
                || ('\u{0E00}'..='\u{0E7F}').contains(&c)
        })
        && name.to_lowercase() == name
}

fn check_name(errors: &mut Errors<'_, '_>, path: &[&str], name: &str) {
    if !valid_chat_name(name) {
        errors.add(
            path,
            "APPLICATION_COMMAND_INVALID_NAME",
            "Command name is invalid",
        );
    }
}

fn check_description(errors: &mut Errors<'_, '_>, path: &[&str], description: &str) {
    let len = description.chars().count();
    if !(1..=100).contains(&len) {
        errors.add(
            path,
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 100 in length.",
        );
    }
}

fn check_localizations(
    errors: &mut Errors<'_, '_>,
    field: &str,
    map: Option<&Localizations>,
    chat: bool,
    names: bool,
) {
    for (locale, value) in map.into_iter().flatten() {
        if !LOCALES.contains(&locale.as_str()) {
            errors.add(
                &[field, locale],
                "LOCALE_INVALID",
                format!("Invalid locale \"{locale}\""),
            );
        } else if names && chat {
            check_name(errors, &[field, locale], value);
        } else if names {
            let len = value.chars().count();
            if !(1..=32).contains(&len) {
                errors.add(
                    &[field, locale],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 32 in length.",
                );
            }
        } else if chat {
            check_description(errors, &[field, locale], value);
        }
    }
}

/// Checks one level of options. `depth` 0: the command's own options; 1: a group's; 2: a
/// subcommand's. Returns them normalised (empty lists dropped).
fn check_options(
    errors: &mut Errors<'_, '_>,
    path: &[String],
    options: Vec<CommandOption>,
    depth: u8,
) -> Vec<CommandOption> {
    let at = |path: &[String], extra: &[&str]| -> Vec<String> {
        path.iter()
            .cloned()
            .chain(extra.iter().map(|s| (*s).to_owned()))
            .collect()
    };
    let add = |errors: &mut Errors<'_, '_>, full: Vec<String>, code: &str, message: &str| {
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        errors.add(&refs, code, message.to_owned());
    };
    if options.len() > MAX_OPTIONS {
        add(
            errors,
            at(path, &[]),
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        );
    }
    let is_sub = |o: &CommandOption| {
        o.kind == option_type::SUB_COMMAND || o.kind == option_type::SUB_COMMAND_GROUP
    };
    let subs = options.iter().filter(|o| is_sub(o)).count();
    if subs > 0 && subs < options.len() && depth == 0 {
        add(
            errors,
            at(path, &[]),
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Subcommands and subcommand groups cannot be mixed with other options",
        );
    }
    let mut seen_optional = false;
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(options.len());
    for (index, mut option) in options.into_iter().enumerate() {
        let here = at(path, &[&index.to_string()]);
        let refs: Vec<&str> = here.iter().map(String::as_str).collect();
        if !(1..=11).contains(&option.kind) {
            add(
                errors,
                at(&here, &["type"]),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.",
            );
            continue;
        }
        let allowed = match depth {
            0 => true,
            1 => option.kind == option_type::SUB_COMMAND,
            _ => !is_sub(&option),
        };
        if !allowed {
            add(
                errors,
                at(&here, &["type"]),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "This option type cannot be nested here",
            );
        }
        let mut name_path = refs.clone();
        name_path.push("name");
        check_name(errors, &name_path, &option.name);
        let mut description_path = refs.clone();
        description_path.push("description");
        check_description(errors, &description_path, &option.description);
        let mut lpath = refs.clone();
        lpath.push("name_localizations");
        let mut sub_errors = Errors {
            form: errors.form,
            prefix: &[],
        };
        let full_prefix: Vec<&str> = errors
            .prefix
            .iter()
            .copied()
            .chain(refs.iter().copied())
            .collect();
        sub_errors.prefix = &full_prefix;
        check_localizations(
            &mut sub_errors,
            "name_localizations",
            option.name_localizations.as_ref(),
            true,
            true,
        );
        check_localizations(
            &mut sub_errors,
            "description_localizations",
            option.description_localizations.as_ref(),
            true,
            false,
        );
        if names.contains(&option.name) {
            add(
                errors,
                at(&here, &["name"]),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            );
        }
        names.push(option.name.clone());
        if is_sub(&option) {
            option.required = false;
        } else if option.required {
            if seen_optional {
                add(
                    errors,
                    at(&here, &["required"]),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                );
            }
        } else {
            seen_optional = true;
        }
        let valued = matches!(
            option.kind,
            option_type::STRING | option_type::INTEGER | option_type::NUMBER
        );
        if option.choices.as_ref().is_some_and(Vec::is_empty) {
            option.choices = None;
        }
        if let Some(choices) = &option.choices {
            if !valued {
                add(
                    errors,
                    at(&here, &["choices"]),
                    "APPLICATION_COMMAND_OPTION_CHOICES_INVALID",
                    "Only string, integer and number options can have choices",
                );
            }
            if option.autocomplete {
                add(
                    errors,
                    at(&here, &["autocomplete"]),
                    "APPLICATION_COMMAND_OPTIONS_AUTOCOMPLETE_CHOICES",
                    "Autocomplete cannot be enabled on options that have choices",
                );
            }
            if choices.len() > MAX_OPTIONS {
                add(
                    errors,
                    at(&here, &["choices"]),
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 25 or fewer in length.",
                );
            }
            for (ci, choice) in choices.iter().enumerate() {
                let cpath = at(&here, &["choices", &ci.to_string()]);
                let len = choice.name.chars().count();
                if !(1..=100).contains(&len) {
                    add(
                        errors,
                        at(&cpath, &["name"]),
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    );
                }
                let fits = match (option.kind, &choice.value) {
                    (option_type::STRING, Value::String(s)) => {
                        let len = s.chars().count();
                        if !(1..=100).contains(&len) {
                            add(
                                errors,
                                at(&cpath, &["value"]),
                                "BASE_TYPE_BAD_LENGTH",
                                "Must be between 1 and 100 in length.",
                            );
                        }
                        true
                    }
                    (option_type::INTEGER, Value::Number(n)) => n
                        .as_i64()
                        .is_some_and(|v| (v as f64).abs() <= MAX_SAFE_NUMBER),
                    (option_type::NUMBER, Value::Number(n)) => {
                        n.as_f64().is_some_and(|v| v.abs() <= MAX_SAFE_NUMBER)
                    }
                    _ => !valued,
                };
                if !fits {
                    add(
                        errors,
                        at(&cpath, &["value"]),
                        "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_TYPE",
                        "Choice value does not match the option's type",
                    );
                }
            }
        }
        if option.autocomplete && !valued {
            add(
                errors,
                at(&here, &["autocomplete"]),
                "APPLICATION_COMMAND_OPTIONS_AUTOCOMPLETE_INVALID",
                "Only string, integer and number options can autocomplete",
            );
        }
        let numeric = matches!(option.kind, option_type::INTEGER | option_type::NUMBER);
        for (field, bound) in [
            ("min_value", &option.min_value),
            ("max_value", &option.max_value),
        ] {
            let Some(bound) = bound else { continue };
            let ok = numeric
                && bound.as_f64().is_some_and(|v| v.abs() <= MAX_SAFE_NUMBER)
                && (option.kind != option_type::INTEGER || bound.is_i64() || bound.is_u64());
            if !ok {
                add(
                    errors,
                    at(&here, &[field]),
                    "NUMBER_TYPE_COERCE",
                    "Value is not a valid bound for this option",
                );
            }
        }
        if let (Some(min), Some(max)) = (
            option
                .min_value
                .as_ref()
                .and_then(serde_json::Number::as_f64),
            option
                .max_value
                .as_ref()
                .and_then(serde_json::Number::as_f64),
        ) {
            if min > max {
                add(
                    errors,
                    at(&here, &["min_value"]),
                    "APPLICATION_COMMAND_OPTION_MIN_VALUE_GREATER_THAN_MAX_VALUE",
                    "min_value must be less than or equal to max_value",
                );
            }
        }
        for (field, bound, low) in [
            ("min_length", option.min_length, 0),
            ("max_length", option.max_length, 1),
        ] {
            let Some(bound) = bound else { continue };
            if option.kind != option_type::STRING {
                add(
                    errors,
                    at(&here, &[field]),
                    "APPLICATION_COMMAND_OPTION_LENGTH_INVALID",
                    "Only string options have lengths",
                );
            } else if !(low..=6000).contains(&bound) {
                add(
                    errors,
                    at(&here, &[field]),
                    "NUMBER_TYPE_MAX",
                    format!("int value should be between {low} and 6000.").as_str(),
                );
            }
        }
        if let (Some(min), Some(max)) = (option.min_length, option.max_length) {
            if min > max {
                add(
                    errors,
                    at(&here, &["min_length"]),
                    "APPLICATION_COMMAND_OPTION_MIN_LENGTH_GREATER_THAN_MAX_LENGTH",
                    "min_length must be less than or equal to max_length",
                );
            }
        }
        if option.channel_types.is_some() && option.kind != option_type::CHANNEL {
            add(
                errors,
                at(&here, &["channel_types"]),
                "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID",
                "Only channel options have channel_types",
            );
        }
        if option.channel_types.as_ref().is_some_and(Vec::is_empty) {
            option.channel_types = None;
        }
        let nested = option.options.take().unwrap_or_default();
        if !nested.is_empty() && !is_sub(&option) {
            add(
                errors,
                at(&here, &["options"]),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Only subcommands and groups have options",
            );
        }
        if is_sub(&option) {
            let next = if option.kind == option_type::SUB_COMMAND_GROUP {
                1
            } else {
                2
            };
            if depth > 0 && option.kind == option_type::SUB_COMMAND_GROUP {
                // Already reported as a nesting error.
            }
            let checked = check_options(errors, &at(&here, &["options"]), nested, next);
            option.options = if checked.is_empty() {
                None
            } else {
                Some(checked)
            };
        }
        out.push(option);
    }
    out
}

/// Drops `name_localizations`/`description_localizations` everywhere (lists without
/// `with_localizations`).
fn strip_localizations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("name_localizations");
            map.remove("description_localizations");
            for child in map.values_mut() {
                strip_localizations(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_localizations),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_names() {
        assert!(valid_chat_name("ping"));
        assert!(valid_chat_name("été-2_x"));
        assert!(valid_chat_name("नमस्ते"));
        assert!(!valid_chat_name("Ping"));
        assert!(!valid_chat_name("two words"));
        assert!(!valid_chat_name(""));
        assert!(!valid_chat_name(&"a".repeat(33)));
    }
}
