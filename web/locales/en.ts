// Shared English strings of both UIs. Every wire error code has a sentence under `errors`.
import type { Messages } from '../i18n';

const en: Messages = {
  errors: {
    EINVALID: 'That could not be sent because something in it is not valid.',
    ETOOLARGE: 'That message is too long: the limit is {limit} characters.',
    EUNAUTHORIZED: 'Your session has expired. Please start again.',
    EFORBIDDEN: 'You are not allowed to do that.',
    ENOTFOUND: 'We could not find that. It may have been removed.',
    ECONFLICT: 'That is no longer possible: the conversation has changed.',
    EUNKNOWNTYPE: 'This page is out of date. Please reload it.',
    EINTERNAL: 'Something went wrong on our side. Please try again.',
    EUNAVAILABLE: 'The service is busy right now. Please try again in a moment.',
    NETWORK: 'We cannot reach the chat service. Check your connection; we will keep trying.',
  },
  connection: {
    reconnecting: 'Connection lost. Reconnecting…',
    connecting: 'Connecting…',
    restored: 'Connected again.',
  },
  chat: {
    you: 'You',
    agent: 'Agent',
    sending: 'Sending…',
    sent: 'Sent',
    delivered: 'Delivered',
    read: 'Read',
    failed: 'Not sent',
    typing: '{name} is typing…',
  },
};

export default en;
