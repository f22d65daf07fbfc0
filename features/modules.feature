@modules
Feature: Adding the appliance's module in Threat Response
  Add New Module > Email Security Appliance: Module Name (default "<name> Email Security Appliance"),
  Registered Device (a choice of the devices registered in SSE, showing type, ID and IP address),
  Request Timeframe in days (default 30), Save.

  Background:
    Given the appliance starts with cloud services disabled

  @req:VER-3
  Scenario: The new module form offers the registered appliance with its type, ID and IP address
    Given the appliance is registered with Threat Response
    When I open the "Registered Device" choices of a new "Email Security Appliance" module
    Then the choices include the appliance with:
      | field      | value      |
      | Name       | <hostname> |
      | Type       | <type>     |
      | ID         | <uuid>     |
      | IP Address | <ip>       |

  @req:VER-3
  Scenario: Saving the module with the documented defaults
    Given the appliance is registered with Threat Response
    When I add an "Email Security Appliance" module for the appliance with the defaults
    Then the module is saved
    And the module's "Module Name" is "<name> Email Security Appliance"
    And the module's "Request Timeframe (days)" is "30"

  @req:VER-3
  Scenario Outline: Saving the module with a chosen name and request timeframe of <days> days
    Given the appliance is registered with Threat Response
    When I add an "Email Security Appliance" module for the appliance with:
      | field                    | value        |
      | Module Name              | <name>       |
      | Request Timeframe (days) | <days>       |
    Then the module is saved
    And the module's "Module Name" is "<name>"
    And the module's "Request Timeframe (days)" is "<days>"

    Examples:
      | name            | days |
      | Paris ESA       | 7    |
      | Lab gateway one | 90   |

  @req:VER-3
  Scenario Outline: The module refuses a request timeframe of "<days>"
    Given the appliance is registered with Threat Response
    When I try to add an "Email Security Appliance" module for the appliance with:
      | field                    | value  |
      | Request Timeframe (days) | <days> |
    Then Threat Response refuses the module

    Examples:
      | days |
      | 0    |
      | -5   |
      | abc  |

  @req:VER-3 @req:VER-1
  Scenario: A module cannot be saved without a registered device
    Given Threat Response is enabled in SSE Cloud Services
    And the appliance is waiting for a registration token
    When I open the "Registered Device" choices of a new "Email Security Appliance" module
    Then the choices do not include the appliance

  @req:VER-3 @req:VER-5
  Scenario: The saved module enriches investigations
    Given the appliance is registered with Threat Response
    And an "Email Security Appliance" module for the appliance
    When I send an email through the appliance:
      | field   | value              |
      | from    | mgmt01@cisco.com   |
      | to      | user@example.com   |
      | subject | module check 42    |
    And I investigate 'email_subject:"module check 42"' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module
