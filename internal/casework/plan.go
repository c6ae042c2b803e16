package casework

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// Plan is a recovery plan: a need per area.
type Plan struct {
	Needs []Need `json:"needs"`
}

// Need is one need of a recovery plan.
type Need struct {
	Area        string     `json:"area"`        // one of NeedAreas
	Responsible string     `json:"responsible"` // the agency or person responsible
	DueOn       string     `json:"due_on"`      // YYYY-MM-DD, or ""
	Status      string     `json:"status"`      // one of NeedStatuses
	Notes       string     `json:"notes"`
	Services    []Referral `json:"services"`
}

// Referral is a service referred for a need: a provider of the provider
// network by ID and name, or by name alone when no directory is set.
type Referral struct {
	ProviderID   string `json:"provider_id,omitempty"`
	ProviderName string `json:"provider_name"`
	Service      string `json:"service"`
}

// AreaLabel returns the label of the need's area.
func (n Need) AreaLabel() string { return Label(NeedAreas, n.Area) }

// StatusLabel returns the label of the need's status.
func (n Need) StatusLabel() string { return Label(NeedStatuses, n.Status) }

// PlanVersion is one saved version of a plan.
type PlanVersion struct {
	*store.PlanVersion
	Plan    Plan
	Summary string // what changed from the previous version
}

// PlanHistory is the plan of a case: the current version and every
// version, newest first.
type PlanHistory struct {
	Current  *PlanVersion // nil before the first save
	Versions []*PlanVersion
}

// Need returns the current need of an area (an empty one when none).
func (h *PlanHistory) Need(area string) Need {
	if h != nil && h.Current != nil {
		for _, n := range h.Current.Plan.Needs {
			if n.Area == area {
				return n
			}
		}
	}
	return Need{Area: area, Status: "not_started"}
}

// Has reports whether the current plan has a need for the area.
func (h *PlanHistory) Has(area string) bool {
	if h == nil || h.Current == nil {
		return false
	}
	for _, n := range h.Current.Plan.Needs {
		if n.Area == area {
			return true
		}
	}
	return false
}

func planHistory(versions []*store.PlanVersion) (*PlanHistory, error) {
	h := &PlanHistory{}
	for _, v := range versions {
		pv := &PlanVersion{PlanVersion: v}
		if err := json.Unmarshal([]byte(v.Body), &pv.Plan); err != nil {
			return nil, fmt.Errorf("decode plan version %d: %w", v.Version, err)
		}
		h.Versions = append(h.Versions, pv)
	}
	// Versions are newest first: each is compared with the next older.
	for i, pv := range h.Versions {
		var prev *Plan
		if i+1 < len(h.Versions) {
			prev = &h.Versions[i+1].Plan
		}
		pv.Summary = diffPlans(prev, &pv.Plan)
	}
	if len(h.Versions) > 0 {
		h.Current = h.Versions[0]
	}
	return h, nil
}

// diffPlans says in a line which needs changed between two versions.
func diffPlans(prev, cur *Plan) string {
	if prev == nil {
		return fmt.Sprintf("first version, %d needs", len(cur.Needs))
	}
	old := map[string]Need{}
	for _, n := range prev.Needs {
		old[n.Area] = n
	}
	var changed []string
	for _, n := range cur.Needs {
		o, ok := old[n.Area]
		switch {
		case !ok:
			changed = append(changed, n.AreaLabel()+" added")
		case o.Status != n.Status:
			changed = append(changed, fmt.Sprintf("%s %s → %s", n.AreaLabel(), o.StatusLabel(), n.StatusLabel()))
		case len(o.Services) != len(n.Services):
			changed = append(changed, n.AreaLabel()+" services referred")
		case o.Responsible != n.Responsible || o.DueOn != n.DueOn || o.Notes != n.Notes:
			changed = append(changed, n.AreaLabel()+" changed")
		}
		delete(old, n.Area)
	}
	for _, n := range prev.Needs {
		if _, gone := old[n.Area]; gone {
			changed = append(changed, n.AreaLabel()+" removed")
		}
	}
	if len(changed) == 0 {
		return "no change to the needs"
	}
	return strings.Join(changed, "; ")
}

// checkPlan validates a plan and names the referred providers.
func (s *Service) checkPlan(ctx context.Context, p *Plan) error {
	if len(p.Needs) == 0 {
		return haven.Invalidf("needs", "a plan needs at least one need")
	}
	seen := map[string]bool{}
	var err error
	for i := range p.Needs {
		n := &p.Needs[i]
		if !valid(NeedAreas, n.Area) {
			return haven.Invalidf("needs", "a need has an unknown area")
		}
		if seen[n.Area] {
			return haven.Invalidf("needs", "the plan has the %s need twice", n.AreaLabel())
		}
		seen[n.Area] = true
		if n.Status == "" {
			n.Status = "not_started"
		}
		if !valid(NeedStatuses, n.Status) {
			return haven.Invalidf(n.Area+"_status", "choose a status")
		}
		if n.Responsible, err = haven.CleanText(n.Area+"_responsible", n.Responsible, 200, false); err != nil {
			return err
		}
		if n.Notes, err = haven.CleanText(n.Area+"_notes", n.Notes, 2000, false); err != nil {
			return err
		}
		if n.DueOn = strings.TrimSpace(n.DueOn); n.DueOn != "" {
			if _, err := time.Parse("2006-01-02", n.DueOn); err != nil {
				return haven.Invalidf(n.Area+"_due", "give the due date as YYYY-MM-DD")
			}
		}
		if len(n.Services) > 50 {
			return haven.Invalidf(n.Area+"_provider", "a need has at most 50 services")
		}
		for j := range n.Services {
			r := &n.Services[j]
			field := n.Area + "_provider"
			if r.Service, err = haven.CleanText(field, r.Service, 300, false); err != nil {
				return err
			}
			if r.ProviderID, err = haven.CleanText(field, r.ProviderID, 100, false); err != nil {
				return err
			}
			if r.ProviderName, err = haven.CleanText(field, r.ProviderName, 300, false); err != nil {
				return err
			}
			switch {
			case r.ProviderID != "" && s.providers != nil:
				name, err := s.providers.ProviderName(ctx, r.ProviderID)
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf(field, "no provider of the network has this ID")
				}
				if err != nil {
					return fmt.Errorf("look up provider: %w", err)
				}
				r.ProviderName = name
			case r.ProviderName == "":
				return haven.Invalidf(field, "name the provider the service is referred to")
			}
		}
	}
	return nil
}

// SavePlan saves a new version of a case's recovery plan; the previous
// versions are kept. It returns the new version number.
func (s *Service) SavePlan(ctx context.Context, a haven.Actor, caseID string, p Plan, comment string) (int, error) {
	if err := s.require(a, haven.PermCaseManage); err != nil {
		return 0, err
	}
	comment, err := haven.CleanText("comment", comment, 1000, false)
	if err != nil {
		return 0, err
	}
	if err := s.checkPlan(ctx, &p); err != nil {
		return 0, err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return 0, fmt.Errorf("encode plan: %w", err)
	}
	var version int
	details := map[string]string{}
	err = s.change(ctx, a, caseID, "case.plan.save", details, func(tx *store.Tx, _ *store.Case, now time.Time) error {
		vs, err := tx.PlanVersions(ctx, caseID)
		if err != nil {
			return err
		}
		version = 1
		if len(vs) > 0 {
			version = vs[0].Version + 1
		}
		details["version"] = fmt.Sprint(version)
		return tx.AddPlanVersion(ctx, &store.PlanVersion{CaseID: caseID, Version: version, Body: string(body), Comment: comment,
			ActorID: a.UserID, At: now})
	})
	if err != nil {
		return 0, err
	}
	return version, nil
}
