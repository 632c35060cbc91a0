package hub

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// An organisation's auto-close time (router_idle.go closes the conversations): stored as an
// organisation setting, read and changed through the admin API.

// settingAutoClose is the org_settings key of the auto-close time.
const settingAutoClose = "auto_close"

// autoCloseSetting reads an organisation's auto-close time: 0 when it never set one.
func (s *Server) autoCloseSetting(ctx context.Context, org wire.OrgID) (time.Duration, error) {
	raw, err := s.store.OrgSetting(ctx, org, settingAutoClose)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v wire.AutoCloseSettings
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return 0, err
	}
	return time.Duration(v.AfterSeconds) * time.Second, nil
}

// AutoCloseSettings returns an organisation's auto-close time with the hub's default.
func (s *Server) AutoCloseSettings(ctx context.Context, org wire.OrgID) (wire.AutoCloseSettings, error) {
	if err := s.checkOrg(ctx, org); err != nil {
		return wire.AutoCloseSettings{}, err
	}
	d, err := s.autoCloseSetting(ctx, org)
	if err != nil {
		return wire.AutoCloseSettings{}, err
	}
	return wire.AutoCloseSettings{AfterSeconds: int(d / time.Second), DefaultSeconds: int(s.cfg.AutoCloseAfter / time.Second),
		WarningSeconds: int(s.cfg.AutoCloseWarning / time.Second)}, nil
}

// SetAutoClose checks and stores an organisation's auto-close time (0: the hub's default); open
// conversations are scheduled again at once.
func (s *Server) SetAutoClose(ctx context.Context, by Actor, org wire.OrgID, v wire.AutoCloseSettings) error {
	if v.AfterSeconds != 0 && (v.AfterSeconds < wire.MinAutoCloseSeconds || v.AfterSeconds > wire.MaxAutoCloseSeconds) {
		return wire.Errorf(wire.EINVALID, "after_s must be 0 (the default) or from %d to %d seconds", wire.MinAutoCloseSeconds, wire.MaxAutoCloseSeconds)
	}
	if err := s.checkOrg(ctx, org); err != nil {
		return err
	}
	detail := "the hub's default"
	if v.AfterSeconds != 0 {
		detail = (time.Duration(v.AfterSeconds) * time.Second).String()
	}
	if err := s.saveOrgSetting(ctx, by, org, settingAutoClose, wire.AutoCloseSettings{AfterSeconds: v.AfterSeconds}, AuditAutoCloseUpdate, detail); err != nil {
		return err
	}
	return s.router.call(func() error {
		o := s.router.orgs[org]
		if o == nil {
			return nil // read with the new setting on first use
		}
		o.autoClose = time.Duration(v.AfterSeconds) * time.Second
		for _, cs := range s.router.convs {
			if cs.org == o {
				s.router.armIdle(cs, false)
			}
		}
		return nil
	})
}
