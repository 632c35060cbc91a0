package policy

import (
	"os"

	"golang.org/x/sys/windows"
)

// adminOnlySDDL is a protected DACL: SYSTEM and Administrators have full control, Users may only
// read. ProgramData's inherited ACL would let any user create files in a new subfolder, i.e.
// plant a policy.json pointing every agent on a shared desk at a hub of their choosing.
const adminOnlySDDL = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"

// makeAdminDir creates dir and sets its ACL so only administrators can change what is in it.
func makeAdminDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sd, err := windows.SecurityDescriptorFromString(adminOnlySDDL)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}
