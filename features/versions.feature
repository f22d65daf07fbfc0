@versions
Feature: Software version prerequisites
  Direct ESA integration needs AsyncOS 13.0 or later (the module quick start says at least
  13.0.0-314); an SMA needs AsyncOS 12.5 or later. Cloud Email Security customers and ESAs managed by an
  SMA connect only through the SMA.

  @req:PRE-5 @cli
  Scenario: The lab's appliance meets the version prerequisite for its kind
    When I read the appliance's version in the CLI
    Then the appliance meets the documented version prerequisite

  @req:PRE-5 @cli @manual:needs-an-appliance-on-that-release
  Scenario Outline: An ESA on AsyncOS <version> <verdict> the prerequisite for direct integration
    Given the appliance runs AsyncOS "<version>"
    When I read the appliance's version in the CLI
    Then the CLI output contains "Version: <version>"
    And the version check says the appliance <verdict> the prerequisite

    Examples:
      | version     | verdict       |
      | 13.0.0-314  | meets         |
      | 13.0.0-392  | meets         |
      | 14.0.0-692  | meets         |
      | 13.0.0-285  | does not meet |
      | 12.5.0-066  | does not meet |

  @req:PRE-5 @req:TS-5 @cli @device:sma @manual:needs-an-SMA-on-that-release
  Scenario Outline: An SMA on AsyncOS <version> <verdict> the prerequisite
    Given the appliance runs AsyncOS "<version>"
    When I read the appliance's version in the CLI
    Then the version check says the appliance <verdict> the prerequisite

    Examples:
      | version    | verdict       |
      | 12.5.0-636 | meets         |
      | 13.6.1-201 | meets         |
      | 12.0.0-478 | does not meet |
