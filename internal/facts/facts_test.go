package facts

import (
	"reflect"
	"testing"
	"time"
)

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{
		"DateTimeDescription": "Date time description",
		"ESPName":             "ESP name",
		"IPAddress":           "IP address",
		"Type":                "Type",
		"URL":                 "URL",
	} {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOf(t *testing.T) {
	type inner struct {
		Value string
		When  time.Time
	}
	yes, no, empty, n := true, false, "", 7
	type record struct {
		Name     string
		Blank    string
		Flag     bool
		Unset    bool
		Given    *bool
		GivenNo  *bool
		Missing  *bool
		Text     *string
		Count    int
		Ptr      *int
		Score    float64
		Inner    inner
		List     []inner
		Bytes    []byte
		private  string
		Location *inner
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))
	got := Of(record{Name: "Example", Flag: true, Given: &yes, GivenNo: &no, Text: &empty, Count: 3, Ptr: &n, Score: 0.5,
		Inner: inner{Value: "a", When: at}, List: []inner{{Value: "b"}, {Value: "c"}}, Bytes: []byte{1}, private: "hidden"})
	want := []Fact{
		{"Name", "Example"}, {"Flag", "yes"}, {"Given", "yes"}, {"Given no", "no"}, {"Text", "(yes, no text)"},
		{"Count", "3"}, {"Ptr", "7"}, {"Score", "0.5"}, {"Inner › Value", "a"}, {"Inner › When", "2026-03-04 04:06:07 UTC"},
		{"List 1 › Value", "b"}, {"List 2 › Value", "c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Of:\n got %q\nwant %q", got, want)
	}
}
