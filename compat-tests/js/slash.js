// An unmodified discord.js bot with one guild slash command: `guild.commands.create` registers
// `/echo text:<string>`; the command is deferred and then edited into the text with a button;
// the button updates the message.
//
// Usage: node slash.js BASE_URL BOT_TOKEN GUILD_ID
// stdout: SYNCED <command_id>, INVOKED <interaction_id>, CLICKED <message_id>, or ERROR <text>.
'use strict';

const {
  Client, Events, GatewayIntentBits, ApplicationCommandOptionType, ActionRowBuilder, ButtonBuilder, ButtonStyle,
} = require('discord.js');

const [base, token, guildId] = process.argv.slice(2);
const say = (...parts) => process.stdout.write(parts.join(' ') + '\n');
const fail = (where, err) => {
  console.error(err);
  say('ERROR', `${where}: ${err && err.name}: ${err && err.message}`.replace(/\n/g, ' '));
};

const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: `${base}/api` } });
client.rest.on('response', (request, response) => console.error(`[rest] ${request.method} ${request.path} -> ${response.status}`));

client.once(Events.ClientReady, async () => {
  try {
    const guild = await client.guilds.fetch(guildId);
    const command = await guild.commands.create({
      name: 'echo',
      description: 'Says it back',
      options: [{ type: ApplicationCommandOptionType.String, name: 'text', description: 'what to say', required: true }],
    });
    say('SYNCED', command.id);
  } catch (err) {
    fail('sync', err);
  }
});

client.on(Events.InteractionCreate, async interaction => {
  try {
    if (interaction.isChatInputCommand()) {
      say('INVOKED', interaction.id, interaction.user.id, interaction.memberPermissions.bitfield.toString());
      await interaction.deferReply();
      const row = new ActionRowBuilder().addComponents(
        new ButtonBuilder().setCustomId('bump').setLabel('Bump').setStyle(ButtonStyle.Primary),
      );
      await interaction.editReply({ content: `echo: ${interaction.options.getString('text')}`, components: [row] });
    } else if (interaction.isButton()) {
      await interaction.update({ content: 'bumped', components: [] });
      say('CLICKED', interaction.message.id);
    }
  } catch (err) {
    fail('interaction', err);
  }
});

client.login(token).catch(err => {
  fail('login', err);
  process.exit(1);
});
