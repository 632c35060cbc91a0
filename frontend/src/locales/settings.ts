// Strings of the policy, About and device-permission parts (app/settings.go), merged over the
// app's locales by lib/i18n.ts.
import type { Messages } from '../../../web/i18n';

export const en: Messages = {
  policy: {
    locked: 'Set by your organisation',
    title: 'This computer’s Parley settings file has an error',
    where: 'In {path}, line {line}, column {column}.',
    whereFile: 'In {path}.',
    kinds: {
      syntax: 'The file is not valid JSON.',
      unknown_key: 'It contains a setting Parley does not know (perhaps a typo).',
      duplicate_key: 'A setting is given twice.',
      invalid_value: 'A setting has a value Parley cannot use.',
      encoding: 'The file is not saved as UTF-8 or UTF-16 text.',
      unreadable: 'The file cannot be read.',
    },
    refuse: 'Signing in is turned off until your IT team fixes the file.',
    details: 'Details for IT',
  },
  about: {
    open: 'About Parley',
    title: 'About Parley',
    version: 'Version',
    hub: 'Hub',
    noHub: 'Not signed in',
    policy: 'Policy file',
    managed: 'Managed by your organisation',
    unmanaged: 'Not managed (no policy file)',
    license: 'Includes open-source software under its own licences: {list}.',
    close: 'Close',
    language: 'Language',
    systemLanguage: 'System ({name})',
    languageNext: 'Saved: Parley uses it from its next start.',
    languages: { en: 'English', es: 'Español' },
  },
  permissions: {
    camera: 'camera',
    microphone: 'microphone',
    windows_privacy: 'Windows is blocking the {device}. Open Settings > Privacy & security > {page} and turn on access, then try again.',
    windows_privacy_desktop: 'Windows is blocking the {device} for desktop apps. Open Settings > Privacy & security > {page} and turn on “{switch}”.',
    windows_privacy_device: 'The {device} is turned off for this whole computer. Ask your IT team to allow it (Settings > Privacy & security > {page}).',
    linux_no_device: 'No {device} was found on this computer ({path}).',
    linux_group: 'You are not allowed to use the {device} ({path}). Ask your IT team to add your account to the “{group}” group, then sign out of the computer and back in.',
    pages: { camera: 'Camera', microphone: 'Microphone' },
    switches: { camera: 'Let desktop apps access your camera', microphone: 'Let desktop apps access your microphone' },
  },
  signin: {
    hubLocked: 'Only the hub set by your organisation can be used.',
  },
};

export const es: Messages = {
  policy: {
    locked: 'Establecido por tu organización',
    title: 'El archivo de configuración de Parley de este equipo tiene un error',
    where: 'En {path}, línea {line}, columna {column}.',
    whereFile: 'En {path}.',
    kinds: {
      syntax: 'El archivo no es JSON válido.',
      unknown_key: 'Contiene un ajuste que Parley no conoce (quizá una errata).',
      duplicate_key: 'Un ajuste aparece dos veces.',
      invalid_value: 'Un ajuste tiene un valor que Parley no puede usar.',
      encoding: 'El archivo no está guardado como texto UTF-8 o UTF-16.',
      unreadable: 'No se puede leer el archivo.',
    },
    refuse: 'No se puede iniciar sesión hasta que tu equipo de TI corrija el archivo.',
    details: 'Detalles para TI',
  },
  about: {
    open: 'Acerca de Parley',
    title: 'Acerca de Parley',
    version: 'Versión',
    hub: 'Hub',
    noHub: 'Sin sesión iniciada',
    policy: 'Archivo de directivas',
    managed: 'Administrado por tu organización',
    unmanaged: 'No administrado (sin archivo de directivas)',
    license: 'Incluye software de código abierto con sus propias licencias: {list}.',
    close: 'Cerrar',
    language: 'Idioma',
    systemLanguage: 'El del sistema ({name})',
    languageNext: 'Guardado: Parley lo usará desde el próximo inicio.',
    languages: { en: 'English', es: 'Español' },
  },
  permissions: {
    camera: 'la cámara',
    microphone: 'el micrófono',
    windows_privacy: 'Windows bloquea {device}. Abre Configuración > Privacidad y seguridad > {page}, activa el acceso y vuelve a intentarlo.',
    windows_privacy_desktop: 'Windows bloquea {device} para las aplicaciones de escritorio. Abre Configuración > Privacidad y seguridad > {page} y activa «{switch}».',
    windows_privacy_device: 'Windows no permite usar {device} en todo el equipo. Pide a tu equipo de TI que lo permita (Configuración > Privacidad y seguridad > {page}).',
    linux_no_device: 'No se encuentra {device} en este equipo ({path}).',
    linux_group: 'No tienes permiso para usar {device} ({path}). Pide a tu equipo de TI que añada tu cuenta al grupo «{group}» y vuelve a iniciar sesión en el equipo.',
    pages: { camera: 'Cámara', microphone: 'Micrófono' },
    switches: {
      camera: 'Permitir que las aplicaciones de escritorio accedan a la cámara',
      microphone: 'Permitir que las aplicaciones de escritorio accedan al micrófono',
    },
  },
  signin: {
    hubLocked: 'Solo se puede usar el hub establecido por tu organización.',
  },
};
