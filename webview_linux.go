//go:build linux && webkit2_41 && (dev || production)

package main

/*
#cgo pkg-config: gtk+-3.0 webkit2gtk-4.1
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>

extern void parleyWebGone(int reason);
extern void parleyWebResponsive(int responsive);

// The window's web view, found once the GTK main loop runs (Wails keeps it to itself).
static WebKitWebView *parleyView;

static WebKitWebView *parleyFind(GtkWidget *w) {
	if (WEBKIT_IS_WEB_VIEW(w)) return WEBKIT_WEB_VIEW(w);
	if (!GTK_IS_CONTAINER(w)) return NULL;
	WebKitWebView *found = NULL;
	GList *children = gtk_container_get_children(GTK_CONTAINER(w));
	for (GList *l = children; l != NULL && found == NULL; l = l->next) found = parleyFind(GTK_WIDGET(l->data));
	g_list_free(children);
	return found;
}

static void parleyTerminated(WebKitWebView *v, WebKitWebProcessTerminationReason reason, gpointer data) {
	parleyWebGone((int)reason);
}

static void parleyResponsiveChanged(GObject *o, GParamSpec *p, gpointer data) {
	parleyWebResponsive(webkit_web_view_get_is_web_process_responsive(WEBKIT_WEB_VIEW(o)));
}

// parleyAttach looks for the web view every 100 ms until it exists, then connects the signals.
static gboolean parleyAttach(gpointer data) {
	if (parleyView != NULL) return G_SOURCE_REMOVE;
	GList *tops = gtk_window_list_toplevels();
	for (GList *l = tops; l != NULL && parleyView == NULL; l = l->next) parleyView = parleyFind(GTK_WIDGET(l->data));
	g_list_free(tops);
	if (parleyView == NULL) return G_SOURCE_CONTINUE;
	g_signal_connect(parleyView, "web-process-terminated", G_CALLBACK(parleyTerminated), NULL);
	g_signal_connect(parleyView, "notify::is-web-process-responsive", G_CALLBACK(parleyResponsiveChanged), NULL);
	return G_SOURCE_REMOVE;
}

static void parleyWatch(void) { g_timeout_add(100, parleyAttach, NULL); }

static gboolean parleyReloadIdle(gpointer data) {
	if (parleyView != NULL) webkit_web_view_reload(parleyView);
	return G_SOURCE_REMOVE;
}

static void parleyReload(void) { g_idle_add(parleyReloadIdle, NULL); }

static gboolean parleyTerminateIdle(gpointer data) {
	if (parleyView != NULL) webkit_web_view_terminate_web_process(parleyView);
	return G_SOURCE_REMOVE;
}

static void parleyTerminate(void) { g_idle_add(parleyTerminateIdle, NULL); }
*/
import "C"

import (
	"sync"
	"time"
)

// Linux: WebKitGTK runs the page in a WebKitWebProcess, which can crash (or hang) on its own. The
// web view's web-process-terminated signal says so; without a handler the window keeps its last
// picture and ignores every click. The shell connects to it, tells the services (which end the
// call and sign out if the page never comes back) and reloads the page, which restarts the
// process. A web process that stops answering for unresponsiveLimit is ended, which takes the
// same path.

// unresponsiveLimit is how long the page may stop answering before its process is ended (WebKit
// itself calls it unresponsive after about 3 s; a busy machine can stall a live page longer).
const unresponsiveLimit = 20 * time.Second

var webWatch struct {
	mu sync.Mutex
	// gone is told of each stop, with the reason, and says whether to reload.
	gone func(reason string) bool
	// hung ends an unresponsive process; it is stopped when the process answers again.
	hung *time.Timer
}

// watchWebContent starts watching the window's web view; call it once the window exists (from
// OnStartup: the search runs on the GTK main loop).
func watchWebContent(gone func(reason string) bool) {
	webWatch.mu.Lock()
	webWatch.gone = gone
	webWatch.mu.Unlock()
	C.parleyWatch()
}

//export parleyWebGone
func parleyWebGone(reason C.int) {
	why := "crashed"
	switch reason {
	case C.WEBKIT_WEB_PROCESS_EXCEEDED_MEMORY_LIMIT:
		why = "memory"
	case C.WEBKIT_WEB_PROCESS_TERMINATED_BY_API:
		why = "unresponsive"
	}
	webWatch.mu.Lock()
	gone := webWatch.gone
	if webWatch.hung != nil {
		webWatch.hung.Stop()
		webWatch.hung = nil
	}
	webWatch.mu.Unlock()
	// Called on the GTK main loop: the services' work (which may sign out over the network) runs
	// elsewhere, and the reload is queued back onto the loop.
	go func() {
		if gone == nil || gone(why) {
			C.parleyReload()
		}
	}()
}

//export parleyWebResponsive
func parleyWebResponsive(responsive C.int) {
	webWatch.mu.Lock()
	defer webWatch.mu.Unlock()
	if webWatch.hung != nil {
		webWatch.hung.Stop()
		webWatch.hung = nil
	}
	if responsive == 0 {
		webWatch.hung = time.AfterFunc(unresponsiveLimit, func() { C.parleyTerminate() })
	}
}
