// An unmodified discord.js bot exchanging direct messages with a user: it opens the DM
// (`user.createDM()`), sends in it, then waits for the user's DM back.
//
// Usage: node dm.js BASE_URL BOT_TOKEN USER_ID
// stdout: the same lines as bots/dm_bot.py (SENT, RECEIVED, DONE) or ERROR <text>.
'use strict';

const { Client, GatewayIntentBits, ChannelType } = require('discord.js');

const [base, token, userId] = process.argv.slice(2);
const say = (...parts) => process.stdout.write(parts.join(' ') + '\n');

async function main() {
  // No MESSAGE_CONTENT: Discord shows bots the content of their DMs regardless.
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages],
    rest: { api: `${base}/api` },
  });
  client.rest.on('response', (request, response) => console.error(`[rest] ${request.method} ${request.path} -> ${response.status}`));
  const received = new Promise((resolve, reject) => {
    client.on('messageCreate', message => {
      if (message.author.id !== userId) return;
      if (message.channel.type !== ChannelType.DM || message.guildId !== null) {
        reject(new Error(`the user's message arrived outside a DM: type ${message.channel.type}`));
        return;
      }
      resolve(message);
    });
  });
  const ready = new Promise(resolve => client.once('clientReady', resolve));
  await client.login(token);
  try {
    await ready;
    const user = await client.users.fetch(userId);
    const dm = await user.createDM();
    const sent = await dm.send('hello from discord.js');
    say('SENT', dm.id, sent.id);
    const message = await received;
    say('RECEIVED', message.channelId, message.content.replace(/ /g, '_'));
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
