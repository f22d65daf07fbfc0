@verification
Feature: Verifying the integration in SSE, Threat Response and Message Tracking
  After registration the SSE device list shows the appliance (name, type, version, status
  "Registered", description, ID, IP address, connector version, created time), Threat Response lists
  it among its devices, and a test email sent through the appliance shows in Monitor > Message
  Tracking, searchable by subject.

  Background:
    Given the appliance starts with cloud services disabled

  @req:VER-1
  Scenario: The SSE device list shows the registered appliance with the documented fields
    Given the appliance is registered with Threat Response
    When I list the devices in the "nam" SSE
    Then the appliance's entry shows:
      | field             | value      |
      | Name              | <hostname> |
      | Type              | <type>     |
      | Version           | <short version> |
      | Status            | Registered |
      | Description       | <type>     |
      | ID                | <uuid>     |
      | IP Address        | <ip>       |
      | Connector Version | <semver>   |
      | Created           | <datetime> |

  @req:VER-1 @region:eu
  Scenario: An appliance registered in Europe is listed by the European SSE only
    Given the appliance is registered with Threat Response on server "EUROPE"
    When I list the devices in the "eu" SSE
    Then the list includes the appliance with status "Registered"
    When I list the devices in the "nam" SSE
    Then the list does not include the appliance

  @req:VER-1
  Scenario: The SSE device list does not show an appliance that is only enabled
    Given the appliance is waiting for a registration token
    When I list the devices in the "nam" SSE
    Then the list does not include the appliance

  @req:VER-2
  Scenario: Threat Response lists the registered appliance among its devices
    Given the appliance is registered with Threat Response
    When I list the devices in the "nam" Threat Response
    Then the list includes the appliance

  @req:VER-2 @destructive @cli
  Scenario: A deregistered appliance leaves the Threat Response device list
    Given the appliance is registered with Threat Response
    When I deregister the appliance through the CLI
    And I list the devices in the "nam" Threat Response
    Then the list does not include the appliance

  @req:VER-4 @gui
  Scenario: A test email shows in Message Tracking, searched by subject "Begins With"
    Given the appliance is registered with Threat Response
    When I send an email through the appliance:
      | field     | value                 |
      | from      | mgmt01@cisco.com      |
      | to        | testingBren@cisco.com |
      | subject   | test test             |
    And I open "Monitor > Message Tracking" in the GUI
    And I choose "Begins With" for "Subject"
    And I enter "test test" into "Subject"
    And I click "Search"
    Then within the mail_tracked deadline the search shows the message with:
      | field      | value                 |
      | MID        | <mid>                 |
      | SENDER     | mgmt01@cisco.com      |
      | RECIPIENT  | testingBren@cisco.com |
      | SUBJECT    | test test             |
      | LAST STATE | <any>                 |

  @req:VER-4 @gui
  Scenario Outline: Message Tracking finds the message by <criterion>
    When I send an email through the appliance:
      | field   | value                  |
      | from    | alice@example.com      |
      | to      | bob@example.net        |
      | subject | Quarterly report Q3    |
    And I open "Monitor > Message Tracking" in the GUI
    And I choose "<operator>" for "<criterion>"
    And I enter "<value>" into "<criterion>"
    And I click "Search"
    Then within the mail_tracked deadline the search shows the message with:
      | field   | value               |
      | SUBJECT | Quarterly report Q3 |

    Examples:
      | criterion          | operator    | value               |
      | Subject            | Begins With | Quarterly           |
      | Subject            | Is          | Quarterly report Q3 |
      | Subject            | Contains    | report              |
      | Envelope Sender    | Begins With | alice@              |
      | Envelope Recipient | Begins With | bob@example.net     |

  @req:VER-4 @gui
  Scenario: Message Tracking finds nothing for a subject that was never sent
    When I send an email through the appliance:
      | field   | value             |
      | from    | alice@example.com |
      | to      | bob@example.net   |
      | subject | hello             |
    And I open "Monitor > Message Tracking" in the GUI
    And I choose "Begins With" for "Subject"
    And I enter "never sent 7f3a" into "Subject"
    And I click "Search"
    Then the search shows no messages

  @req:VER-7 @device:sma
  Scenario: With the SMA integrated, its messages are investigated without integrating the ESAs
    Given the appliance is registered with Threat Response
    And an "SMA Email" module for the appliance
    When I send an email through the appliance:
      | field   | value               |
      | from    | noreply@cisco.com   |
      | to      | user@example.com    |
      | subject | centralised report  |
    And I investigate 'email_subject:"centralised report"' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module

  @req:VER-8 @device:sma
  Scenario: An "SMA Web" module cannot be configured before the SMA is a module
    Given the appliance is registered with Threat Response
    When I add an "SMA Web" module for the appliance
    Then Threat Response refuses the module

  @req:VER-8 @device:sma
  Scenario: Once the SMA is a module, an "SMA Web" module (beta) can be configured
    Given the appliance is registered with Threat Response
    And an "SMA Email" module for the appliance
    When I list the available module types in Threat Response
    Then the module types include "SMA Web" marked beta
    When I add an "SMA Web" module for the appliance
    Then the module is saved
