// Command testidp runs the test OpenID provider (package testidp) as a process, for end-to-end
// tests written in JavaScript: a real provider with users, groups and one confidential client.
// It prints "issuer URL" once it listens and serves until it is stopped. Never shipped.
//
//	testidp -client parley:SECRET:https://hub/sso/callback -user u1:ann:PASSWORD:ann@acme.test:agents,leads
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/parleyhq/parley/internal/testidp"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var users, clients list
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Var(&users, "user", "a user, ID:USERNAME:PASSWORD:EMAIL[:GROUP,GROUP] (repeat)")
	flag.Var(&clients, "client", "a client, ID:SECRET:REDIRECT_URI (repeat)")
	flag.Parse()
	var us []testidp.User
	for _, u := range users {
		f := strings.SplitN(u, ":", 5)
		if len(f) < 4 || f[1] == "" {
			fmt.Fprintf(os.Stderr, "testidp: -user %q: want ID:USERNAME:PASSWORD:EMAIL[:GROUPS]\n", u)
			os.Exit(2)
		}
		user := testidp.User{ID: f[0], Username: f[1], Password: f[2], Email: f[3], EmailVerified: true, First: strings.ToUpper(f[1][:1]) + f[1][1:], Last: "Test"}
		if len(f) == 5 && f[4] != "" {
			user.Groups = strings.Split(f[4], ",")
		}
		us = append(us, user)
	}
	var cs []testidp.Client
	for _, c := range clients {
		f := strings.SplitN(c, ":", 3)
		if len(f) < 3 {
			fmt.Fprintf(os.Stderr, "testidp: -client %q: want ID:SECRET:REDIRECT_URI\n", c)
			os.Exit(2)
		}
		cs = append(cs, testidp.Client{ID: f[0], Secret: f[1], RedirectURIs: []string{f[2]}})
	}
	p, err := testidp.Start(*addr, us, cs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testidp:", err)
		os.Exit(1)
	}
	fmt.Println("issuer", p.Issuer)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	_ = p.Close()
}
