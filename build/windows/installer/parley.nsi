; Parley agent app: per-machine Windows installer (NSIS 3, 64-bit Unicode stub).
; Built by scripts/dist/windows.sh, which passes:
;   makensis -DVERSION=0.3.0-4-gabc -DNUMVER=0.3.0.4 -DAGENT_EXE=... -DPOLICY_EXE=...
;            -DWEBVIEW2_SETUP=... -DICON=... -DOUTFILE=... parley.nsi
;
; Silent install for IT (all parameters optional; /D= must come last, unquoted):
;   parley-setup.exe /S /HUBURL=https://hub.example.com /REGION=gcc /PROVIDER=acme /LOCK=hub_url,region
;   parley-setup.exe /S /POLICY=\\server\share\parley-policy.json
; The parameters are written to %ProgramData%\Parley\policy.json by parley-policy.exe, which
; validates them; an invalid value fails the install with exit code 3 (nothing is left half-set).
; Exit codes: 0 done, 1 cancelled, 2 aborted, 3 policy refused, 64 Windows too old, 65 not x64.

; A 64-bit installer for a 64-bit app: it writes to the real Program Files and the 64-bit registry
; with no WOW64 redirection, and it is the one Debian's 64-bit Wine runs, so `make test-windows`
; installs and uninstalls it like the MSI. (On 32-bit Windows it does not start at all; Parley
; does not run there either.)
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!include "MUI2.nsh"
!include "x64.nsh"
!include "WinVer.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

!define PRODUCT "Parley"
!define COMPANY "Parley"
!define EXE "parley.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Parley"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
InstallDirRegKey HKLM "Software\${COMPANY}\${PRODUCT}" "InstallDir"
ShowInstDetails show

VIProductVersion "${NUMVER}"
VIFileVersion "${NUMVER}"
VIAddVersionKey "CompanyName" "${COMPANY}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${NUMVER}"
VIAddVersionKey "LegalCopyright" "Parley contributors"

; The uninstaller is written during compilation: sign it then, so the installed one is signed too.
!uninstfinalize '"${SIGN}" "%1"' = 0

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Spanish"

Var HubURL
Var Region
Var Provider
Var Lock
Var PolicySrc

Function .onInit
  SetShellVarContext all
  ${IfNot} ${AtLeastWin10}
    IfSilent +2
      MessageBox MB_OK|MB_ICONSTOP "Parley needs Windows 10 or later."
    SetErrorLevel 64
    Quit
  ${EndIf}
  ${IfNot} ${IsNativeAMD64}
    IfSilent +2
      MessageBox MB_OK|MB_ICONSTOP "Parley needs 64-bit Windows on an x64 processor."
    SetErrorLevel 65
    Quit
  ${EndIf}
  SetRegView 64
  ; GetOptions ends a value at the next character that starts its option name: with "/HUBURL="
  ; that is the first "/" of "https://", and the hub URL would be "https:". With " /HUBURL=" it
  ; is the next space outside quotes, so URLs keep their slashes and a path with spaces is quoted
  ; (/POLICY="\\server\share\my policy.json"). The space put first finds an option given first.
  ${GetParameters} $R0
  StrCpy $R0 " $R0"
  ${GetOptions} $R0 " /HUBURL=" $HubURL
  ${GetOptions} $R0 " /REGION=" $Region
  ${GetOptions} $R0 " /PROVIDER=" $Provider
  ${GetOptions} $R0 " /LOCK=" $Lock
  ${GetOptions} $R0 " /POLICY=" $PolicySrc
FunctionEnd

Section "Parley" SecMain
  SetShellVarContext all
  SetRegView 64

  ; WebView2 runtime: present on current Windows 10/11; otherwise run Microsoft's bootstrapper.
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    DetailPrint "Installing the Microsoft Edge WebView2 runtime"
    InitPluginsDir
    SetOutPath "$PLUGINSDIR"
    File "/oname=MicrosoftEdgeWebview2Setup.exe" "${WEBVIEW2_SETUP}"
    ExecWait '"$PLUGINSDIR\MicrosoftEdgeWebview2Setup.exe" /silent /install'
  ${EndIf}

  SetOutPath "$INSTDIR"
  File "/oname=${EXE}" "${AGENT_EXE}"
  File "/oname=parley-policy.exe" "${POLICY_EXE}"

  ; Managed settings from the command line, validated by parley-policy.
  ${If} $PolicySrc != ""
    DetailPrint "Installing the policy file from $PolicySrc"
    nsExec::ExecToLog '"$INSTDIR\parley-policy.exe" install "$PolicySrc"'
    Pop $0
    ${If} $0 != 0
      Call PolicyFailed
    ${EndIf}
  ${EndIf}
  ${If} "$HubURL$Region$Provider$Lock" != ""
    DetailPrint "Writing the policy file"
    nsExec::ExecToLog '"$INSTDIR\parley-policy.exe" set -hub-url "$HubURL" -region "$Region" -provider "$Provider" -lock "$Lock"'
    Pop $0
    ${If} $0 != 0
      Call PolicyFailed
    ${EndIf}
  ${EndIf}

  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\${EXE}"
  WriteRegStr HKLM "Software\${COMPANY}\${PRODUCT}" "InstallDir" "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${COMPANY}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

; PolicyFailed stops the install when parley-policy refused the parameters (its message is in
; the install log); the files already copied are removed again.
Function PolicyFailed
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\parley-policy.exe"
  RMDir "$INSTDIR"
  IfSilent +2
    MessageBox MB_OK|MB_ICONSTOP "The policy parameters were refused; see the installation details. Nothing was installed."
  SetErrorLevel 3
  Quit
FunctionEnd

Function un.onInit
  SetShellVarContext all
  SetRegView 64
FunctionEnd

; The uninstaller leaves %ProgramData%\Parley\policy.json: it belongs to IT, not to this install.
Section "Uninstall"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\parley-policy.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "Software\${COMPANY}\${PRODUCT}"
  DeleteRegKey /ifempty HKLM "Software\${COMPANY}"
SectionEnd
