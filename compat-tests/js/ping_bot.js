// An unmodified discord.js bot, pointed at an accord server.
//
// Usage: node ping_bot.js BASE_URL BOT_TOKEN TAG
//
// Line protocol on stdout (read by compat-tests/harness.py):
//   READY <bot_user_id>
//   REPLIED <reply_message_id>
//   DONE <created_channel_id> <created_role_id>
//   AGAIN <reply_message_id>       (every later "!ping": replied "pong" again)
//   ERROR <text>
// Library debug output (REST requests, gateway events) goes to stderr.
'use strict';

const { Client, Events, GatewayIntentBits, version } = require('discord.js');

const [base, token, tag] = process.argv.slice(2);
if (!base || !token || !tag) {
  console.error('usage: node ping_bot.js BASE_URL BOT_TOKEN TAG');
  process.exit(2);
}

function say(...parts) {
  process.stdout.write(parts.join(' ') + '\n');
}

function oneLine(err) {
  return `${err && err.name ? err.name : 'Error'}: ${err && err.message ? err.message : String(err)}`.replace(/\n/g, ' ');
}

const verbose = (process.env.ACCORD_COMPAT_BOT_LOG || 'DEBUG').toUpperCase() === 'DEBUG';

// The REST base: @discordjs/rest builds `${api}/v${version}${route}`; the gateway URL comes
// from GET /gateway/bot (@discordjs/ws fetchGatewayInformation).
const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
  rest: { api: `${base}/api` },
});

if (verbose) {
  client.on(Events.Debug, info => console.error(`[debug] ${info}`));
  // Log only the status: the response handed to this event shares its body stream with
  // @discordjs/rest (undici), so reading it here would break the library's own parsing.
  client.rest.on('response', (req, res) => {
    const sent = req.data && req.data.body !== undefined ? ` body=${JSON.stringify(req.data.body)}` : '';
    console.error(`[rest] ${req.method.toUpperCase()} ${req.path}${sent} -> ${res.status}`);
  });
  client.on(Events.Raw, packet => console.error(`[raw] ${JSON.stringify(packet).slice(0, 4000)}`));
}
client.on(Events.Warn, info => console.error(`[warn] ${info}`));
client.on(Events.Error, err => console.error('[error]', err));
client.on(Events.ShardError, err => console.error('[shardError]', err));
process.on('unhandledRejection', err => {
  console.error('[unhandledRejection]', err);
  say('ERROR', `unhandledRejection ${oneLine(err)}`);
});

let ready = false;
let handled = false;

client.once(Events.ClientReady, c => {
  if (ready) return;
  ready = true;
  console.error(`discord.js ${version} ready as ${c.user.tag} in guilds ${[...c.guilds.cache.values()].map(g => g.name)}`);
  say('READY', c.user.id);
});

client.on(Events.MessageCreate, async message => {
  if (message.author.bot || message.content !== '!ping') return;
  if (handled) {
    // Later pings (e.g. after a forced reconnect) only get the reply.
    try {
      const again = await message.reply('pong');
      say('AGAIN', again.id);
    } catch (err) {
      console.error('[flow error]', err);
      say('ERROR', oneLine(err));
    }
    return;
  }
  handled = true;
  try {
    const reply = await message.reply('pong');
    say('REPLIED', reply.id);

    const guild = message.guild;
    if (!guild) throw new Error(`message ${message.id} has no guild`);
    const channel = await guild.channels.create({ name: `${tag}-created` });
    if (!channel) throw new Error('guild.channels.create() returned no channel');
    const role = await guild.roles.create({ name: `${tag}-role` });
    if (!role) throw new Error('guild.roles.create() returned no role');
    const me = guild.members.me ?? (await guild.members.fetchMe());
    await me.roles.add(role);
    say('DONE', channel.id, role.id);
  } catch (err) {
    console.error('[flow error]', err);
    say('ERROR', oneLine(err));
  }
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    client.destroy().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}

client.login(token).catch(err => {
  console.error('[login error]', err);
  say('ERROR', `login failed ${oneLine(err)}`);
  process.exit(1);
});
