// The portal's English strings; shared ones (errors, connection, chat) come from web/locales.
import type { Messages } from '../../../web/i18n';

const en: Messages = {
  portal: {
    docTitle: 'Chat with {org}',
    loading: 'Loading chat…',
    close: 'Minimise chat',
    status: {
      prechat: 'We usually reply in a few minutes',
      waiting: 'Waiting for an agent',
      active: 'Chatting with {agent}',
      activeAnon: 'An agent has joined',
      ended: 'Chat ended',
    },
    welcome: {
      heading: 'Hi there!',
      body: 'Have a question? Start a chat and one of our team will be with you shortly.',
      nameLabel: 'Your name',
      optional: '(optional)',
      namePlaceholder: 'e.g. Alex',
      start: 'Start chat',
      starting: 'Starting…',
    },
    queue: {
      heading: 'Waiting for an agent',
      position: 'You are number {n} in the queue',
      next: 'You are next in the queue',
      unknown: 'An agent will be with you shortly',
      hint: 'You can already type your question below.',
    },
    composer: {
      label: 'Message',
      placeholder: 'Write a message…',
      send: 'Send',
      tooLong: 'This message is too long: the limit is {limit} characters.',
      hint: 'Press Enter to send, Shift+Enter for a new line.',
    },
    leave: {
      button: 'Leave',
      title: 'Leave this chat?',
      body: 'The agent will see that you left, and you will not be able to write in this chat again.',
      confirm: 'Leave chat',
      cancel: 'Stay',
    },
    ended: {
      title: 'This chat has ended',
      byAgent: '{agent} ended the chat.',
      byAgentAnon: 'The agent ended the chat.',
      byCustomer: 'You left the chat.',
      inactivity: 'The chat was closed after a while with nobody writing.',
      closed: 'The chat was closed.',
      again: 'Start a new chat',
      kept: 'The conversation stays above for your reference.',
    },
    unavailable: {
      title: 'Chat is not available',
      retry: 'Try again',
    },
    transcript: 'Conversation',
    empty: 'Say hello — an agent will reply here.',
  },
};

export default en;
