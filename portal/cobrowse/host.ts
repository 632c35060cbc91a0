// The co-browse script a host page loads from the hub when a co-browse starts (the widget loader
// adds it on demand, so a page that never co-browses never downloads rrweb). It only registers
// window.ParleyCobrowse; the loader hands it the private port the chat talks on.
import { startRecorder, type Recorder } from './recorder';

declare global {
  interface Window {
    ParleyCobrowse?: { start(port: MessagePort): Recorder };
  }
}

window.ParleyCobrowse = { start: (port) => startRecorder(port) };
