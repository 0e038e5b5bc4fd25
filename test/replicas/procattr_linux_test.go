package replicas

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills a replica when the test process dies without cleaning up.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
