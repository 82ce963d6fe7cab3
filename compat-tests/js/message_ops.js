// An unmodified discord.js client exercising message operations over REST: send, edit,
// suppress embeds, pin, list pins, unpin, delete, bulk delete.
//
// Usage: node message_ops.js BASE_URL BOT_TOKEN CHANNEL_ID
// stdout: the same lines as bots/message_ops_bot.py (EDITED, SUPPRESSED, PINNED, AFTER_UNPIN,
// DELETED, BULK_DELETED, DONE) or ERROR <text>.
'use strict';

const { Client, GatewayIntentBits, EmbedBuilder } = require('discord.js');

const [base, token, channelId] = process.argv.slice(2);
const say = (...parts) => process.stdout.write(parts.join(' ') + '\n');

async function main() {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: `${base}/api` } });
  client.rest.on('response', (request, response) => console.error(`[rest] ${request.method} ${request.path} -> ${response.status}`));
  await client.login(token);
  try {
    const channel = await client.channels.fetch(channelId);
    const first = await channel.send('first draft');
    const edited = await first.edit('second draft');
    say('EDITED', edited.id, edited.content.replace(/ /g, '_'), edited.editedTimestamp !== null ? 'True' : 'False');

    const withEmbed = await channel.send({ content: 'with embed', embeds: [new EmbedBuilder().setTitle('t').setDescription('d')] });
    const suppressed = await withEmbed.suppressEmbeds(true);
    say('SUPPRESSED', suppressed.id, suppressed.flags.has('SuppressEmbeds') ? 'True' : 'False');

    await first.pin('compat test');
    await withEmbed.pin();
    let pins = await channel.messages.fetchPins();
    say('PINNED', ...pins.items.map(pin => pin.message.id));
    await withEmbed.unpin();
    pins = await channel.messages.fetchPins();
    say('AFTER_UNPIN', ...pins.items.map(pin => pin.message.id));

    await first.delete();
    say('DELETED', first.id);
    const batch = [];
    for (let n = 0; n < 3; n++) batch.push(await channel.send(`bulk ${n}`));
    await channel.bulkDelete(batch.map(m => m.id));
    say('BULK_DELETED', ...batch.map(m => m.id));
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
