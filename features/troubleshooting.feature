@troubleshooting
Feature: Troubleshooting cases of the technote
  Each case: put the lab in the documented cause, see the documented symptom, apply the documented
  fix, see it work.

  Background:
    Given the appliance starts with cloud services disabled

  @req:TS-1 @req:PRE-2 @req:VER-3
  Scenario: TS-1 The appliance is missing from the module's Registered Device list until Threat Response is enabled in SSE
    Given the appliance is registered with Threat Response
    And Threat Response is disabled in SSE Cloud Services
    When I open the "Registered Device" choices of a new "Email Security Appliance" module
    Then the choices do not include the appliance
    When I enable "Cisco Threat Response" in SSE Cloud Services
    And I open the "Registered Device" choices of a new "Email Security Appliance" module
    Then the choices include the appliance
    When I add an "Email Security Appliance" module for the appliance with the defaults
    Then the module is saved

  @req:TS-2 @req:VER-6
  Scenario: TS-2 An investigation with the wrong syntax shows no data until the syntax is corrected
    Given the appliance is registered with Threat Response
    And an "Email Security Appliance" module for the appliance
    And I sent an email through the appliance:
      | field   | value             |
      | from    | noreply@cisco.com |
      | to      | user@example.com  |
      | subject | test test         |
    When I investigate 'subject:test test' in Threat Response
    Then the investigation shows no sighting from the module
    When I investigate 'email_subject:"test test"' in Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module

  @req:TS-2 @region:eu @destructive @cli
  Scenario: TS-2 An appliance registered with the wrong Threat Response server shows no data in the tenant's cloud until it is moved
    Given the appliance is registered with Threat Response on server "EUROPE"
    When I add an "Email Security Appliance" module for the appliance in the "nam" Threat Response
    Then Threat Response refuses the module
    When I deregister the appliance through the CLI
    And I switch the Threat Response server to "AMERICAS" through the CLI
    And I register the appliance with a new token from the "nam" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response
    Given an "Email Security Appliance" module for the appliance
    And I sent an email through the appliance:
      | field   | value             |
      | from    | noreply@cisco.com |
      | to      | user@example.com  |
      | subject | test test         |
    When I investigate 'email_subject:"test test"' in the "nam" Threat Response
    Then within the mail_tracked deadline the investigation shows a sighting from the module

  @req:TS-3 @req:ENA-5 @gui
  Scenario: TS-3 The appliance does not ask for a registration token until the change is committed (GUI)
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    And I check "Enable"
    And I click "Submit"
    Then after the cloud_ready deadline the appliance still does not ask for a registration token
    When I commit the changes in the GUI
    Then within the cloud_ready deadline the page shows a "Registration Token" field and a "Register" button

  @req:TS-3 @req:ENA-5 @cli
  Scenario: TS-3 The appliance does not ask for a registration token until the change is committed (CLI)
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer |
      | Choose the operation you want to perform: | ENABLE |
    Then after the cloud_ready deadline the appliance still does not ask for a registration token
    When I commit the changes in the CLI
    Then within the cloud_ready deadline the CLI asks for a registration token

  @req:TS-4 @req:REG-8 @gui
  Scenario Outline: TS-4 Registration fails with <cause> until a valid token from the right cloud is used
    Given the appliance is waiting for a registration token on server "<server>"
    And <bad_token>
    When I register the appliance with the token through the GUI
    Then within the registration deadline the registration fails
    And the status reads "The registration failed because of an invalid or expired token."
    When I register the appliance with a new token from the "<region>" SSE through the GUI
    Then within the registration deadline the appliance is registered with Threat Response

    Examples:
      | cause                        | server   | region | bad_token                                                        |
      | an invalid token             | AMERICAS | nam    | a made-up registration token "ffffffffffffffffffffffffffffffff"  |
      | a token from the EU cloud    | AMERICAS | nam    | a registration token from the "eu" SSE                           |
      | a token from the NAM cloud   | EUROPE   | eu     | a registration token from the "nam" SSE                          |

    Examples: expired
      | cause                        | server   | region | bad_token                                                        |
      | an expired token             | AMERICAS | nam    | an expired registration token from the "nam" SSE                 |

  @req:TS-5 @req:PRE-5 @cli
  Scenario: TS-5 An ESA below AsyncOS 13.0 cannot integrate directly until it is upgraded
    Given the appliance runs AsyncOS "12.5.0-066"
    When I read the appliance's version in the CLI
    Then the version check says the appliance does not meet the prerequisite
    Given the appliance runs AsyncOS "13.0.0-392"
    When I read the appliance's version in the CLI
    Then the version check says the appliance meets the prerequisite
    Given the appliance is waiting for a registration token
    When I register the appliance with a new token from the "nam" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response

  @req:TS-5 @req:VER-7 @req:PRE-5 @device:sma @cli
  Scenario: TS-5 An SMA on AsyncOS 12.5 or later integrates on behalf of its ESAs
    When I read the appliance's version in the CLI
    Then the appliance meets the documented version prerequisite
    Given the appliance is registered with Threat Response
    When I list the devices in the "nam" SSE
    Then the list includes the appliance with status "Registered"
    When I add an "SMA Email" module for the appliance
    Then the module is saved
