import { mount } from 'svelte';
import './app.css';
import { settings } from './api/settings';
import { chooseLanguage } from './lib/language';
import { keepTabInWindow } from './lib/tabcycle';

// The agent's language comes first: the UI's modules build their translator as they load.
async function start() {
  try {
    chooseLanguage((await settings.language()).language);
  } catch {
    // No setting (or no bindings yet): the system's language.
  }
  keepTabInWindow();
  const { default: App } = await import('./App.svelte');
  const target = document.getElementById('app');
  if (!target) throw new Error('no #app element');
  return mount(App, { target });
}

export default start();
