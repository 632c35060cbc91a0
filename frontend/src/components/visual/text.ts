// The strings of the built-in co-browse and screen-share views, English and Spanish.
import { i18n } from '../../lib/i18n';

const TEXT = {
  en: {
    laser: 'Laser pointer',
    waiting: 'Waiting for the customer’s page…',
    waitingScreen: 'Waiting for the customer’s screen…',
    control: 'You control the page: click, type and scroll in it.',
    noControl: 'View only: the customer has not given you control.',
    cobrowse: 'Customer’s page',
    screen: 'Customer’s screen',
    error: 'Part of the page could not be shown.',
  },
  es: {
    laser: 'Puntero láser',
    waiting: 'Esperando la página del cliente…',
    waitingScreen: 'Esperando la pantalla del cliente…',
    control: 'Controlas la página: haz clic, escribe y desplázate en ella.',
    noControl: 'Solo ver: el cliente no te ha dado el control.',
    cobrowse: 'Página del cliente',
    screen: 'Pantalla del cliente',
    error: 'Parte de la página no se pudo mostrar.',
  },
};

/** text is the views' strings in the app's language. */
export function text(lang: string = i18n.lang): (typeof TEXT)['en'] {
  return lang.startsWith('es') ? TEXT.es : TEXT.en;
}
