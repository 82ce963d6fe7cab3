// An unmodified discord.js client reacting to a message over REST: add unicode and custom
// reactions, read them back on the message, list who reacted, remove its own and someone else's
// reaction, clear one emoji, clear all.
//
// Usage: node reactions.js BASE_URL BOT_TOKEN GUILD_ID CHANNEL_ID MESSAGE_ID EMOJI_ID OTHER_USER_ID
// stdout: the same lines as bots/reactions_bot.py (REACTIONS, USERS, AFTER, CLEARED_EMOJI,
// CLEARED_ALL, DONE) or ERROR <text>.
'use strict';

const { Client, GatewayIntentBits } = require('discord.js');

const [base, token, guildId, channelId, messageId, emojiId, otherId] = process.argv.slice(2);
const say = (...parts) => process.stdout.write(parts.join(' ') + '\n');
const title = value => (value ? 'True' : 'False');

async function main() {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: `${base}/api` } });
  client.rest.on('response', (request, response) => console.error(`[rest] ${request.method} ${request.path} -> ${response.status}`));
  await client.login(token);
  try {
    const guild = await client.guilds.fetch(guildId);
    const custom = await guild.emojis.fetch(emojiId, { force: true });
    const channel = await client.channels.fetch(channelId);
    // A fresh read each time: a message missing `reactions` must not keep a cached list.
    const fresh = async () => {
      channel.messages.cache.delete(messageId);
      return channel.messages.fetch({ message: messageId, force: true });
    };
    const summary = message => message.reactions.cache.map(r => `${r.emoji.name}:${r.count}:${title(r.me)}`);

    let message = await fresh();
    for (const emoji of ['👍', '🎉', custom]) await message.react(emoji);
    message = await fresh();
    say('REACTIONS', ...summary(message));
    const users = await message.reactions.resolve('👍').users.fetch();
    say('USERS', ...users.map(user => user.id));

    await message.reactions.resolve('🎉').users.remove();
    await message.reactions.resolve('👍').users.remove(otherId);
    message = await fresh();
    say('AFTER', ...summary(message));
    await message.reactions.resolve(custom.id).remove();
    message = await fresh();
    say('CLEARED_EMOJI', ...summary(message));
    await message.reactions.removeAll();
    message = await fresh();
    say('CLEARED_ALL', ...summary(message));
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
