// An unmodified discord.js client reacting to a message over REST: add unicode and custom
// reactions, read them back on the message, list who reacted, remove its own and someone else's
// reaction, clear one emoji, clear all.
//
// Usage: node reactions.js BASE_URL BOT_TOKEN GUILD_ID CHANNEL_ID MESSAGE_ID EMOJI_ID OTHER_USER_ID
// stdout: the same lines as bots/reactions_bot.py (REACTIONS, USERS, AFTER, CLEARED_EMOJI,
// CLEARED_ALL, DONE) plus EVENTS (the reaction events it received), or ERROR <text>.
'use strict';

const { Client, Events, GatewayIntentBits, Partials } = require('discord.js');

const [base, token, guildId, channelId, messageId, emojiId, otherId] = process.argv.slice(2);
const say = (...parts) => process.stdout.write(parts.join(' ') + '\n');
const title = value => (value ? 'True' : 'False');

async function main() {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessageReactions],
    partials: [Partials.Message, Partials.Reaction, Partials.User],
    rest: { api: `${base}/api` },
  });
  // The gateway events the REST calls cause, as discord.js parses them.
  const events = { add: 0, remove: 0, remove_emoji: 0, remove_all: 0 };
  client.on('messageReactionAdd', (reaction, user) => {
    if (reaction.message.id === messageId && user.id === client.user.id) events.add++;
  });
  client.on('messageReactionRemove', reaction => {
    if (reaction.message.id === messageId) events.remove++;
  });
  client.on('messageReactionRemoveEmoji', reaction => {
    if (reaction.message.id === messageId) events.remove_emoji++;
  });
  client.on('messageReactionRemoveAll', message => {
    if (message.id === messageId) events.remove_all++;
  });
  client.rest.on('response', (request, response) => console.error(`[rest] ${request.method} ${request.path} -> ${response.status}`));
  // The guild and its channels are cached once READY and the GUILD_CREATEs are in.
  const ready = new Promise(resolve => client.once(Events.ClientReady, resolve));
  await client.login(token);
  try {
    await ready;
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
    const wanted = 'add=3 remove=2 remove_emoji=1 remove_all=1';
    const seen = () => Object.entries(events).map(([k, v]) => `${k}=${v}`).join(' ');
    for (let waited = 0; seen() !== wanted && waited < 5000; waited += 100) {
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    say('EVENTS', seen());
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
