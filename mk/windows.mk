# Windows builds, run (issue 16). `make test-windows` (part of `make test`):
#   1. checks that every Windows executable imports only DLLs a clean Windows 10/11 has
#      (build/windows/allowed-dlls.txt; scripts/dist/windows-imports.sh prints each one's list);
#   2. installs both installers silently with IT's parameters in fresh Wine prefixes, checks the
#      files, Start-menu entry, policy file and that the installed parley.exe gets as far as
#      looking for WebView2, then uninstalls and checks what is left (e2e/wine/install.sh);
#   3. runs the Windows headless agent under Wine in a real video call through a Linux hub to
#      a customer in Chromium, with the policy from %ProgramData% and the camera then blocked in
#      the privacy settings (e2e/wine-call.test.mjs).
# Wine is Debian's wine64 (64-bit only); Go >= 1.24 programs need a test-only bcryptprimitives.dll
# stand-in in the prefix (e2e/wine/bcryptprimitives.c), never shipped.
WINDOWS_APT := wine64 gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 binutils-mingw-w64-x86-64 \
	pulseaudio pulseaudio-utils chromium xvfb xauth
# About 3 minutes besides the builds it shares with test-dist (dist-windows is made once per make
# run): one prefix booted, two installs and uninstalls, three calls (docs/deploy.md has figures).
E2E_TARGETS += test-windows

.PHONY: test-windows windows-deps

windows-deps:
	@build/deps.sh $(WINDOWS_APT)

# The headless agent for Windows, with the app's media engine (H.264 + Opus).
$(OUT)/windows/parley-agent.exe: windows-deps FORCE
	@mkdir -p $(@D)
	root=$(CURDIR) && . scripts/dist/windows-cgo.sh && \
	GOOS=windows GOARCH=amd64 $(GO) build -tags "$$WINDOWS_TAGS" -trimpath -ldflags "-s -w $(LDFLAGS)" -o $@ ./cmd/parley-agent

test-windows: windows-deps dist-windows $(OUT)/windows/parley-agent.exe $(OUT)/parley-hub
	@echo "== DLLs imported by the Windows executables"
	scripts/dist/windows-imports.sh out/dist/windows/parley.exe out/dist/windows/parley-policy.exe \
	  $(OUT)/windows/parley-agent.exe dist/parley-*-windows-amd64-setup.exe
	@# The check itself: a C++ program linked the default way imports libstdc++-6.dll and is refused.
	@printf '#include <iostream>\nint main() { std::cout << "hi"; }\n' >$(OUT)/windows/dynamic.cc
	@x86_64-w64-mingw32-g++ -o $(OUT)/windows/dynamic.exe $(OUT)/windows/dynamic.cc
	@if scripts/dist/windows-imports.sh $(OUT)/windows/dynamic.exe >$(OUT)/windows/dynamic.out; then \
	  echo "windows-imports.sh let a program that imports libstdc++-6.dll through"; exit 1; fi
	@grep -q 'FAIL.*libstdc++-6.dll' $(OUT)/windows/dynamic.out && echo "  ok    windows-imports.sh refuses libstdc++-6.dll"
	@echo "== a fresh Wine prefix, the template of each test's own copy"
	rm -rf $(OUT)/wine && e2e/wine/prefix.sh $(CURDIR)/$(OUT)/wine/template
	PARLEY_WINE_TEMPLATE=$(CURDIR)/$(OUT)/wine/template e2e/wine/install.sh
	PARLEY_WINE_TEMPLATE=$(CURDIR)/$(OUT)/wine/template PARLEY_HUB=$(OUT)/parley-hub \
	  PARLEY_AGENT_EXE=$(OUT)/windows/parley-agent.exe PARLEY_POLICY_EXE=out/dist/windows/parley-policy.exe \
	  node --test --test-timeout=600000 e2e/wine-call.test.mjs
	rm -rf $(OUT)/wine
