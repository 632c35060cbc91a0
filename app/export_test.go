package app

// EventTypes gives the tests of package app_test the Go type of each event's data.
var EventTypes = eventTypes
