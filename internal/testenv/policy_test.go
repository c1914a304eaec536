package testenv

import "testing"

func TestRequired_ReadsCommaSeparatedList(t *testing.T) {
	t.Setenv("TFPILOT_TEST_REQUIRE", " postgres , s3")
	if !Required(Postgres) || !Required(S3) || Required("redis") {
		t.Fatal("Required does not match the list")
	}
	t.Setenv("TFPILOT_TEST_REQUIRE", "")
	if Required(Postgres) {
		t.Fatal("empty list requires postgres")
	}
}

func TestAllowed_ForcedProvider(t *testing.T) {
	t.Setenv("TFPILOT_TEST_PROVIDER", "containers")
	if !Allowed(ProviderContainers) || Allowed(ProviderHost) {
		t.Fatal("forced provider not honoured")
	}
	t.Setenv("TFPILOT_TEST_PROVIDER", "")
	if !Allowed(ProviderHost) {
		t.Fatal("no forced provider must allow all")
	}
}
