// Cadenas en español compartidas por ambas interfaces. Cada código de error de wire tiene su frase.
import type { Messages } from '../i18n';

const es: Messages = {
  errors: {
    EINVALID: 'No se pudo enviar porque algo no es válido.',
    ETOOLARGE: 'El mensaje es demasiado largo: el límite es de {limit} caracteres.',
    EUNAUTHORIZED: 'Tu sesión ha caducado. Vuelve a empezar, por favor.',
    EFORBIDDEN: 'No tienes permiso para hacer eso.',
    ENOTFOUND: 'No lo encontramos. Puede que se haya eliminado.',
    ECONFLICT: 'Eso ya no es posible: la conversación ha cambiado.',
    EUNKNOWNTYPE: 'Esta página está desactualizada. Vuelve a cargarla, por favor.',
    EINTERNAL: 'Algo ha fallado por nuestra parte. Inténtalo de nuevo.',
    EUNAVAILABLE: 'El servicio está ocupado. Inténtalo de nuevo en un momento.',
    NETWORK: 'No podemos conectar con el servicio de chat. Revisa tu conexión; seguiremos intentándolo.',
  },
  connection: {
    reconnecting: 'Se perdió la conexión. Reconectando…',
    connecting: 'Conectando…',
    restored: 'Conectado de nuevo.',
  },
  chat: {
    you: 'Tú',
    agent: 'Agente',
    sending: 'Enviando…',
    sent: 'Enviado',
    delivered: 'Entregado',
    read: 'Leído',
    failed: 'No enviado',
    typing: '{name} está escribiendo…',
  },
};

export default es;
