@remediation
Feature: Remediating messages from Threat Response
  With the appliance enabled and registered, its module added with a remediation forward address, and
  a remediation profile enabled on the email gateway (System Administration > Account Settings),
  Threat Response offers Delete, Forward, and Forward and Delete on a Cisco Message ID or an Email
  Message ID.

  Background:
    Given the appliance starts with cloud services disabled
    And the appliance is registered with Threat Response
    And the appliance has a remediation profile enabled
    And an "Email Security Appliance" module for the appliance with remediation forward address "soc@example.com"
    And I sent an email through the appliance:
      | field      | value                       |
      | from       | attacker@phish.example      |
      | to         | victim@example.com          |
      | subject    | Urgent wire transfer        |
      | message-id | wire-7781@phish.example     |

  @req:REM-2 @gui
  Scenario Outline: Threat Response offers Delete, Forward and Forward and Delete on the <id>
    When I investigate '<query>' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module
    And Threat Response offers the response actions for '<query>':
      | action             |
      | Delete             |
      | Forward            |
      | Forward and Delete |

    Examples:
      | id                | query                                     |
      | Cisco Message ID  | cisco_mid:"<mid>"                         |
      | Email Message ID  | email_messageid:"wire-7781@phish.example" |

  @req:REM-1 @req:REM-2 @destructive @gui
  Scenario Outline: "<action>" on the <id> remediates the message on the appliance
    When I investigate '<query>' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module
    When I run the "<action>" response action on '<query>' in Threat Response
    Then the response action succeeds
    And within the mail_tracked deadline Message Tracking shows the message's last state containing "<state>"

    Examples: Cisco Message ID
      | id               | query             | action             | state                       |
      | Cisco Message ID | cisco_mid:"<mid>" | Delete             | deleted from the mailbox    |
      | Cisco Message ID | cisco_mid:"<mid>" | Forward            | forwarded to soc@example.com |
      | Cisco Message ID | cisco_mid:"<mid>" | Forward and Delete | deleted from the mailbox    |

    Examples: Email Message ID
      | id               | query                                     | action             | state                        |
      | Email Message ID | email_messageid:"wire-7781@phish.example" | Delete             | deleted from the mailbox     |
      | Email Message ID | email_messageid:"wire-7781@phish.example" | Forward            | forwarded to soc@example.com |
      | Email Message ID | email_messageid:"wire-7781@phish.example" | Forward and Delete | deleted from the mailbox     |

  @req:REM-1 @destructive @gui
  Scenario: Without a remediation profile on the gateway, remediation fails until one is enabled
    Given the appliance has no remediation profile enabled
    When I run the "Delete" response action on 'cisco_mid:"<mid>"' in Threat Response
    Then the response action fails
    When I enable the remediation profile in the GUI and commit
    And I run the "Delete" response action on 'cisco_mid:"<mid>"' in Threat Response
    Then the response action succeeds

  @req:REM-1 @gui
  Scenario: A remediation profile that is submitted but not committed does not enable remediation
    Given the appliance has no remediation profile enabled
    When I open "System Administration > Account Settings" in the GUI
    And I check "Enable Remediation Profile"
    And I click "Submit"
    And I run the "Delete" response action on 'cisco_mid:"<mid>"' in Threat Response
    Then the response action fails
