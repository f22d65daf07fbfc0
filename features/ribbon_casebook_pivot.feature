@ribbon
Feature: SecureX ribbon, casebook and pivot menu
  The ribbon logs in with an API client (client ID, client password, server; Authenticate; editable
  later). Its client needs casebook, enrich:read, global-intel:read, inspect:read, integration:read,
  profile, private-intel, response, registry/user/ribbon, telemetry:write, users:read (and orbital
  where entitled). The casebook alone needs casebook, private intelligence and inspect; the pivot
  menu alone needs enrich and response. The pivot menu adds an observable (IP address, domain, URL,
  SHA-256) to a new or the current case; title, description and notes can be added; "Investigate
  this Case".

  @req:RIB-1 @req:RIB-3
  Scenario: A ribbon client with the documented scopes authenticates and can use every ribbon app
    Given a Threat Response API client with the ribbon scopes
    When I authenticate the ribbon with the client on the "nam" server
    Then the authentication succeeds
    And the token grants the scopes:
      | scope               |
      | casebook            |
      | enrich:read         |
      | global-intel:read   |
      | inspect:read        |
      | integration:read    |
      | profile             |
      | private-intel       |
      | response            |
      | registry/user/ribbon |
      | telemetry:write     |
      | users:read          |
    And the client can "create a casebook"
    And the client can "enrich an observable"
    And the client can "list response actions"
    And the client can "inspect text"

  @req:RIB-1
  Scenario Outline: A ribbon client without "<missing>" cannot "<use>"
    Given a Threat Response API client with the ribbon scopes except "<missing>"
    When I authenticate the ribbon with the client on the "nam" server
    Then the authentication succeeds
    And the client cannot "<use>"

    Examples:
      | missing       | use                   |
      | registry/user/ribbon | open the ribbon |
      | enrich:read   | enrich an observable  |
      | response      | list response actions |
      | inspect:read  | inspect text          |

  @req:RIB-2
  Scenario: A casebook-only client (casebook, private intelligence, inspect) can use the casebook but not the pivot menu
    Given a Threat Response API client with the scopes:
      | scope         |
      | casebook      |
      | private-intel |
      | inspect:read  |
    When I authenticate the ribbon with the client on the "nam" server
    Then the client can "create a casebook"
    And the client can "inspect text"
    And the client cannot "enrich an observable"
    And the client cannot "list response actions"

  @req:RIB-2
  Scenario: A pivot-only client (enrich, response) can use the pivot menu but not the casebook
    Given a Threat Response API client with the scopes:
      | scope    |
      | enrich   |
      | response |
    When I authenticate the ribbon with the client on the "nam" server
    Then the client can "enrich an observable"
    And the client can "list response actions"
    And the client cannot "create a casebook"

  @req:RIB-3 @req:PRE-1
  Scenario: A wrong client password is refused, the right one authenticates
    Given a Threat Response API client with the ribbon scopes
    When I authenticate the ribbon with the client and the password "wrong-password" on the "nam" server
    Then the authentication is refused
    When I authenticate the ribbon with the client on the "nam" server
    Then the authentication succeeds

  @req:RIB-3 @req:PRE-1 @region:eu
  Scenario: The ribbon login can be edited later to another server
    Given a Threat Response API client with the ribbon scopes
    When I authenticate the ribbon with the client on the "nam" server
    Then the authentication succeeds
    When I authenticate the ribbon with the client on the "eu" server
    Then the authentication is refused
    Given a Threat Response API client with the ribbon scopes in the "eu" region
    When I authenticate the ribbon with the client on the "eu" server
    Then the authentication succeeds

  @req:RIB-4 @req:RIB-5
  Scenario Outline: The pivot menu adds the <type> observable "<value>" to a new case
    Given a Threat Response API client with the ribbon scopes
    And I authenticate the ribbon with the client on the "nam" server
    Then Threat Response recognises "<value>" as a "<type>" observable
    When I pivot "<type>" "<value>" to a new case
    Then the casebook shows a case containing "<type>" "<value>"

    Examples:
      | type   | value                                                            |
      | ip     | 4.2.2.2                                                          |
      | domain | bit.ly                                                           |
      | url    | https://bit.ly/3xYzAbc                                           |
      | sha256 | 8a4bbc1d3e2f6a0b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b |

  @req:RIB-4
  Scenario: The pivot menu adds an observable to the current case, which gets a title, description and notes
    Given a Threat Response API client with the ribbon scopes
    And I authenticate the ribbon with the client on the "nam" server
    When I pivot "domain" "bit.ly" to a new case
    And I pivot "ip" "4.2.2.2" to the current case
    And I give the case the title "Phishing wave", the description "bit.ly links in invoices" and the note "seen on esa1"
    Then the casebook shows a case containing "domain" "bit.ly"
    And the case contains "ip" "4.2.2.2"
    And the case has the title "Phishing wave", the description "bit.ly links in invoices" and the note "seen on esa1"

  @req:RIB-4
  Scenario: "Investigate this Case" investigates the case's observables
    Given a Threat Response API client with the ribbon scopes
    And I authenticate the ribbon with the client on the "nam" server
    When I pivot "domain" "bit.ly" to a new case
    And I pivot "ip" "4.2.2.2" to the current case
    And I investigate the case
    Then the investigation covers the observables:
      | type   | value   |
      | domain | bit.ly  |
      | ip     | 4.2.2.2 |

  @req:RIB-6
  Scenario: After an upgrade from SMA 13.6.1, a casebook client without the additional scopes cannot use the ribbon
    Given a Threat Response API client with the scopes:
      | scope         |
      | casebook      |
      | private-intel |
      | inspect:read  |
    When I authenticate the ribbon with the client on the "nam" server
    Then the client cannot "open the ribbon"
    Given a Threat Response API client with the ribbon scopes
    When I authenticate the ribbon with the client on the "nam" server
    Then the client can "open the ribbon"
    And the client can "create a casebook"
