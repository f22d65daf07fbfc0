@versions
Feature: Software version prerequisites
  Direct ESA integration needs AsyncOS 13.0 or later (the module quick start says at least
  13.0.0-314); an SMA needs AsyncOS 12.5 or later. Cloud Email Security customers and ESAs managed by an
  SMA connect only through the SMA. The verdicts compare what the appliance reports (`version` in the CLI)
  with the documented minimum, and what the appliance then does: one below the minimum must not end up
  integrated as if it were fine.

  @req:PRE-5 @cli
  Scenario: The lab's appliance meets the version prerequisite for its kind
    When I read the appliance's version in the CLI
    Then the appliance meets the documented version prerequisite

  @req:PRE-5
  Scenario: The ESA module's quick start states the minimum AsyncOS release
    When I open the quick start of a new "Email Security Appliance" module
    Then the quick start says "Prerequisite: ESA running minimum AsyncOS 13.0.0-314 (LD) release."

  @req:PRE-5 @cli
  Scenario Outline: An ESA on AsyncOS <version> meets the prerequisite and integrates directly
    Given the appliance starts with cloud services disabled
    And the appliance runs AsyncOS "<version>"
    When I read the appliance's version in the CLI
    Then the CLI output contains "Version: <version>"
    And the version check says the appliance meets the prerequisite
    And the appliance can be integrated directly with Threat Response

    Examples:
      | version     |
      | 13.0.0-314  |
      | 13.0.0-392  |
      | 14.0.0-692  |

  @req:PRE-5 @cli
  Scenario Outline: An ESA on AsyncOS <version> does not meet the prerequisite and is not integrated directly
    Given the appliance starts with cloud services disabled
    And the appliance runs AsyncOS "<version>"
    When I read the appliance's version in the CLI
    Then the CLI output contains "Version: <version>"
    And the version check says the appliance does not meet the prerequisite
    And the appliance cannot be integrated directly with Threat Response

    Examples:
      | version     |
      | 13.0.0-285  |
      | 12.5.0-066  |

  @req:PRE-5 @req:TS-5 @cli @device:sma
  Scenario Outline: An SMA on AsyncOS <version> <verdict> the prerequisite
    Given the appliance runs AsyncOS "<version>"
    When I read the appliance's version in the CLI
    Then the CLI output contains "Version: <version>"
    And the version check says the appliance <verdict> the prerequisite

    Examples:
      | version    | verdict       |
      | 12.5.0-636 | meets         |
      | 13.6.1-201 | meets         |
      | 12.0.0-478 | does not meet |
