// Cadenas del portal en español; las compartidas (errores, conexión, chat) están en web/locales.
import type { Messages } from '../../../web/i18n';

const es: Messages = {
  portal: {
    docTitle: 'Chat con {org}',
    loading: 'Cargando el chat…',
    close: 'Minimizar el chat',
    status: {
      prechat: 'Solemos responder en pocos minutos',
      waiting: 'Esperando a un agente',
      active: 'Hablando con {agent}',
      activeAnon: 'Un agente se ha unido',
      ended: 'Chat finalizado',
    },
    welcome: {
      heading: '¡Hola!',
      body: '¿Tienes alguna pregunta? Inicia un chat y alguien de nuestro equipo te atenderá enseguida.',
      nameLabel: 'Tu nombre',
      optional: '(opcional)',
      namePlaceholder: 'p. ej. Alex',
      start: 'Iniciar chat',
      starting: 'Iniciando…',
    },
    queue: {
      heading: 'Esperando a un agente',
      position: 'Eres el número {n} en la cola',
      next: 'Eres el siguiente en la cola',
      unknown: 'Un agente te atenderá enseguida',
      hint: 'Ya puedes escribir tu pregunta abajo.',
    },
    composer: {
      label: 'Mensaje',
      placeholder: 'Escribe un mensaje…',
      send: 'Enviar',
      tooLong: 'El mensaje es demasiado largo: el límite es de {limit} caracteres.',
      hint: 'Pulsa Intro para enviar y Mayús+Intro para una nueva línea.',
    },
    leave: {
      button: 'Salir',
      title: '¿Salir de este chat?',
      body: 'El agente verá que has salido y ya no podrás escribir en este chat.',
      confirm: 'Salir del chat',
      cancel: 'Quedarme',
    },
    ended: {
      title: 'Este chat ha finalizado',
      byAgent: '{agent} ha finalizado el chat.',
      byAgentAnon: 'El agente ha finalizado el chat.',
      byCustomer: 'Has salido del chat.',
      inactivity: 'El chat se cerró tras un rato sin que nadie escribiera.',
      closed: 'El chat se ha cerrado.',
      again: 'Iniciar un chat nuevo',
      kept: 'La conversación queda arriba para que la consultes.',
    },
    unavailable: {
      title: 'El chat no está disponible',
      retry: 'Reintentar',
    },
    transcript: 'Conversación',
    empty: 'Saluda: un agente te responderá aquí.',
  },
};

export default es;
