// An unmodified discord.js client using webhooks: `channel.createWebhook`, `webhook.send`,
// then the same webhook through a `WebhookClient` built from its id and token (no bot token):
// send with a username override, edit that message, and finally delete the webhook.
//
// `WebhookClient({ url })` only parses discord.com URLs, so it is given `{ id, token }` and
// `rest.api` pointing at accord, exactly like the bot client.
//
// Usage: node webhooks.js BASE_URL BOT_TOKEN CHANNEL_ID
// stdout: the same lines as bots/webhook_bot.py (CREATED, SENT, FROM_URL, FETCHED, EDITED,
// DELETED, DONE) or ERROR <text>.
'use strict';

const { Client, GatewayIntentBits, WebhookClient } = require('discord.js');

const [base, token, channelId] = process.argv.slice(2);
const say = (...parts) => process.stdout.write(parts.join(' ') + '\n');
const words = s => s.replace(/ /g, '_');

async function main() {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: `${base}/api` } });
  client.rest.on('response', (request, response) => console.error(`[rest] ${request.method} ${request.path} -> ${response.status}`));
  await client.login(token);
  try {
    const channel = await client.channels.fetch(channelId);
    const hook = await channel.createWebhook({ name: 'js hook', reason: 'compat test' });
    say('CREATED', hook.id, hook.token ? 'True' : 'False');
    const sent = await hook.send('from discord.js webhook');
    say('SENT', sent.id, sent.webhookId, words(sent.author.username));

    const byToken = new WebhookClient({ id: hook.id, token: hook.token }, { rest: { api: `${base}/api` } });
    try {
      const second = await byToken.send({ content: 'from WebhookClient', username: 'js override' });
      say('FROM_URL', second.id, words(second.author.username));
      const fetched = await byToken.fetchMessage(second.id);
      say('FETCHED', hook.id, words(hook.name), fetched.id === second.id ? 'same' : 'other');
      const edited = await byToken.editMessage(second.id, { content: 'edited by token' });
      say('EDITED', edited.id, words(edited.content));
    } finally {
      byToken.destroy();
    }

    await hook.delete('compat test');
    say('DELETED', hook.id);
    say('DONE');
  } finally {
    await client.destroy();
  }
}

main().then(
  () => process.exit(0),
  err => {
    console.error(err);
    say('ERROR', `${err && err.name}: ${err && err.message}`.replace(/\n/g, ' '));
    process.exit(1);
  },
);
