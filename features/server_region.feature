@region
Feature: Choosing and switching the Threat Response server (region)
  cloudserviceconfig > SETTRS lists the available servers, prints "Selected threat response server
  is <fqdn>." and asks for a commit. Switching a registered appliance to another server or region
  requires deregistering it first and then repeating the whole procedure.

  Background:
    Given the appliance starts with cloud services disabled

  @req:REG-4 @cli @gui @region:eu
  Scenario: SETTRS selects Europe, as the user guide transcript shows it
    Given the appliance is waiting for a registration token
    When I choose "EUROPE" with SETTRS in the CLI
    Then the CLI output contains "Available list of Threat Response Servers:"
    And the CLI output contains "EUROPE (api.eu.sse.itd.cisco.com)"
    And the CLI output contains "AMERICAS (api-sse.cisco.com)"
    And the CLI output contains "Enter threat response server to connect to the Cisco Threat Response portal."
    And the CLI output contains "Selected threat response server is api.eu.sse.itd.cisco.com."
    And the CLI output contains 'Make sure you run "commit" to make these changes active.'
    When I commit the changes in the CLI with comment "EU server"
    Then the CLI output matches "Changes committed: <date>"
    And the page shows "Threat Response Server:" as "EUROPE (api.eu.sse.itd.cisco.com)"

  @req:REG-4 @cli @gui
  Scenario Outline: SETTRS selects <server> and prints its FQDN
    Given the appliance is waiting for a registration token on server "<start>"
    When I choose "<server>" with SETTRS in the CLI
    Then the CLI output contains "Selected threat response server is <fqdn>."
    And the CLI output contains 'Make sure you run "commit" to make these changes active.'
    When I commit the changes in the CLI
    Then the page shows "Threat Response Server:" as "<label>"

    @region:eu
    Examples:
      | start    | server   | fqdn                     | label                             |
      | AMERICAS | EUROPE   | api.eu.sse.itd.cisco.com | EUROPE (api.eu.sse.itd.cisco.com) |

    @region:nam
    Examples:
      | start    | server   | fqdn                     | label                             |
      | EUROPE   | AMERICAS | api-sse.cisco.com        | AMERICAS (api-sse.cisco.com)      |

  @req:REG-4 @req:ENA-3 @cli @region:apjc
  Scenario: SETTRS on a SecureX-era appliance also offers APJC
    Given the appliance runs AsyncOS "14.0.0-692"
    And the appliance is waiting for a registration token
    When I choose "APJC" with SETTRS in the CLI
    Then the CLI output contains "APJC (api.apj.sse.itd.cisco.com)"
    And the CLI output contains "Selected threat response server is api.apj.sse.itd.cisco.com."

  @req:REG-4 @cli @gui
  Scenario: A server chosen with SETTRS is not applied before commit
    Given the appliance is waiting for a registration token
    When I choose "EUROPE" with SETTRS in the CLI
    Then the page shows "Threat Response Server:" as "AMERICAS (api-sse.cisco.com)"
    And the GUI reports uncommitted changes

  @req:REG-4 @cli
  Scenario: SETTRS refuses a server number that is not in the list
    Given the appliance is waiting for a registration token
    When I run "cloudserviceconfig" in the CLI and answer:
      | question                                                                     | answer |
      | Choose the operation you want to perform:                                    | SETTRS |
      | Enter threat response server to connect to the Cisco Threat Response portal. | 9      |
    Then the CLI output does not contain "Selected threat response server is"
    And the CLI has no uncommitted changes

  @req:REG-6 @destructive
  Scenario Outline: Switching a registered appliance from <from> to <to> through the <interface> needs deregistration first
    Given the appliance is registered with Threat Response on server "<from>"
    When I switch the Threat Response server to "<to>" through the <interface>
    Then the "<from_region>" SSE lists the appliance as "Registered"
    And the "<to_region>" SSE does not list the appliance as "Registered"
    When I deregister the appliance through the <interface>
    And I register the appliance with a new token from the "<to_region>" SSE through the <interface>
    Then within the registration deadline the appliance is registered with Threat Response
    And the "<to_region>" SSE lists the appliance as "Registered"
    And the "<from_region>" SSE does not list the appliance as "Registered"

    @gui @region:eu
    Examples: GUI
      | interface | from     | from_region | to     | to_region |
      | GUI       | AMERICAS | nam         | EUROPE | eu        |

    @cli @region:nam
    Examples: CLI
      | interface | from   | from_region | to       | to_region |
      | CLI       | EUROPE | eu          | AMERICAS | nam       |

  @req:REG-6 @req:REG-8 @destructive @cli
  Scenario: A token from the new region fails while the appliance still uses the old server
    Given the appliance is waiting for a registration token on server "AMERICAS"
    And a registration token from the "eu" SSE
    When I register the appliance with the token through the CLI
    Then within the registration deadline the registration fails
    When I switch the Threat Response server to "EUROPE" through the CLI
    And I register the appliance with a new token from the "eu" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response
    And the "eu" SSE lists the appliance as "Registered"
