// An unmodified discord.js client uploading files: `channel.send({ files: [...] })`, fetching
// the attachment URL back, then editing the message to add a file and to remove them all.
//
// Usage: node files.js BASE_URL BOT_TOKEN CHANNEL_ID
// stdout: the same lines as bots/files_bot.py (SENT, READ, EDITED, CLEARED, DONE) or ERROR <text>.
'use strict';

const crypto = require('node:crypto');
const { Client, GatewayIntentBits, AttachmentBuilder } = require('discord.js');

const [base, token, channelId] = process.argv.slice(2);
const say = (...parts) => process.stdout.write(parts.join(' ') + '\n');
const sha = data => crypto.createHash('sha256').update(data).digest('hex');

// The same bytes the discord.py bot sends (every byte value, then a marker).
const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const PAYLOAD = Buffer.concat([...Array(64).fill(every), Buffer.from('accord files compat')]);
const EXTRA = Buffer.from('second file\n');

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} -> ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

async function main() {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: `${base}/api` } });
  client.rest.on('response', (request, response) => console.error(`[rest] ${request.method} ${request.path} -> ${response.status}`));
  await client.login(token);
  try {
    const channel = await client.channels.fetch(channelId);
    const sent = await channel.send({
      content: 'a file from discord.js',
      files: [new AttachmentBuilder(PAYLOAD, { name: 'payload.bin', description: 'compat bytes' })],
    });
    const attachment = sent.attachments.first();
    say('SENT', sent.id, attachment.id, attachment.name, attachment.size, attachment.contentType, sha(PAYLOAD));
    say('READ', sha(await fetchBytes(attachment.url)));

    const edited = await sent.edit({
      attachments: [attachment],
      files: [new AttachmentBuilder(EXTRA, { name: 'extra.txt' })],
    });
    const extra = edited.attachments.find(a => a.name === 'extra.txt');
    say('EDITED', edited.attachments.size, sha(await fetchBytes(extra.url)));
    const cleared = await edited.edit({ attachments: [] });
    say('CLEARED', cleared.attachments.size);
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
