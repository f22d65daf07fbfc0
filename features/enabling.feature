@enabling
Feature: Enabling the Threat Response integration on the appliance
  Network > Cloud Service Settings > Edit Settings > check Enable > choose the server > Submit >
  Commit Changes; or threatresponseconfig in the CLI followed by commit. Nothing applies before the
  commit. After the commit the cloud service is busy for a few minutes, then the appliance asks for
  a registration token.

  Background:
    Given the appliance starts with cloud services disabled

  @req:ENA-1 @gui
  Scenario: The initial Cloud Service Settings page shows Threat Response disabled
    Given the appliance is as it left the factory
    When I open "Network > Cloud Service Settings" in the GUI
    Then the page shows "Threat Response:" as "Disabled"
    And the page shows "Threat Response Server:" as "No Server is set."
    And the page shows the status "Enable the Cloud Services on your appliance to use the Cisco Threat Response portal."
    And the page shows no "Registration Token" field

  @req:ENA-2 @req:ENA-4 @gui
  Scenario: Enabling Threat Response in the GUI, step by step as the technote shows it
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    And I check "Enable"
    And I choose "AMERICAS (api-sse.cisco.com)" for "Threat Response Server"
    And I click "Submit"
    And I commit the changes in the GUI with comment "Enabling CTR"
    Then the page shows "Success — Your changes have been committed."
    And the page shows "Threat Response:" as "Enabled"
    And the page shows "Threat Response Server:" as "AMERICAS (api-sse.cisco.com)"
    And the page shows the status "The Cisco Cloud Service is busy. Navigate back to this page after some time to check the appliance status."
    And within the cloud_ready deadline the page shows a "Registration Token" field and a "Register" button

  @req:ENA-2 @req:ENA-4 @gui
  Scenario: The commit comment is optional
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    And I check "Enable"
    And I click "Submit"
    And I commit the changes in the GUI
    Then the page shows "Success — Your changes have been committed."
    And the page shows "Threat Response:" as "Enabled"

  @req:ENA-2 @req:ENA-3 @req:ENA-4 @req:ENA-6
  Scenario Outline: Enabling Threat Response with the <server> server through the <interface> asks for a token after a while
    When I enable Threat Response with server "<server>" through the <interface>
    Then the appliance shows Threat Response "Enabled" with server "<label>"
    And within the cloud_ready deadline the <interface> asks for a registration token

    @gui
    Examples: GUI
      | interface | server   | label                             |
      | GUI       | AMERICAS | AMERICAS (api-sse.cisco.com)      |
      | GUI       | EUROPE   | EUROPE (api.eu.sse.itd.cisco.com) |

    @cli
    Examples: CLI
      | interface | server   | label                             |
      | CLI       | AMERICAS | AMERICAS (api-sse.cisco.com)      |
      | CLI       | EUROPE   | EUROPE (api.eu.sse.itd.cisco.com) |

  @req:ENA-3 @gui
  Scenario: AMERICAS is the default Threat Response server
    Given the appliance is as it left the factory
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    Then "AMERICAS (api-sse.cisco.com)" is selected for "Threat Response Server"
    And the "Threat Response Server" choices are:
      | AMERICAS (api-sse.cisco.com)      |
      | EUROPE (api.eu.sse.itd.cisco.com) |

  @req:ENA-3 @gui
  Scenario: A SecureX-era appliance adds the APJC server
    Given the appliance runs AsyncOS "14.0.0-692"
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    Then the "Threat Response Server" choices are:
      | AMERICAS (api-sse.cisco.com)       |
      | EUROPE (api.eu.sse.itd.cisco.com)  |
      | APJC (api.apj.sse.itd.cisco.com)   |

  @req:ENA-5 @req:TS-3 @gui
  Scenario: Submitted but uncommitted changes are not applied in the GUI
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    And I check "Enable"
    And I click "Submit"
    Then the page shows "Threat Response:" as "Disabled"
    And the GUI reports uncommitted changes
    And after the cloud_ready deadline the appliance still does not ask for a registration token

  @req:ENA-5 @req:TS-3 @cli @gui
  Scenario: An uncommitted threatresponseconfig change is not applied
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer |
      | Choose the operation you want to perform: | ENABLE |
    Then after the cloud_ready deadline the appliance still does not ask for a registration token
    And the page shows "Threat Response:" as "Disabled"

  @req:ENA-5 @gui
  Scenario: Abandoned changes are not applied
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    And I check "Enable"
    And I click "Submit"
    And I abandon the changes in the GUI
    Then the page shows "Threat Response:" as "Disabled"
    And the GUI reports no uncommitted changes

  @req:ENA-6 @cli
  Scenario: threatresponseconfig offers only ENABLE while Threat Response is disabled
    When I run "threatresponseconfig" in the CLI
    Then the CLI offers only the operations "ENABLE"
    And the CLI output contains "ENABLE - To enable the Cisco Threat Response feature on your appliance."

  @req:ENA-6 @cli
  Scenario: threatresponseconfig enable and commit, as in the user guide transcript
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer |
      | Choose the operation you want to perform: | enable |
    Then the CLI output contains:
      """
      The Cisco Threat Response feature is currently enabled on your appliance. Use the
      cloudserviceconfig command to register your appliance with the Cisco Threat
      Response portal.
      """
    When I run "commit" in the CLI and answer:
      | question                                            | answer |
      | Please enter some comments describing your changes: |        |
    Then the CLI output matches "Changes committed: <date>"

  @req:ENA-6 @cli @destructive
  Scenario: threatresponseconfig offers only DISABLE while Threat Response is enabled, and disables it
    Given the appliance is waiting for a registration token
    When I run "threatresponseconfig" in the CLI
    Then the CLI offers only the operations "DISABLE"
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer  |
      | Choose the operation you want to perform: | disable |
    Then the CLI output contains "The Cisco Threat Response feature is currently disabled on your appliance."
    When I commit the changes in the CLI with comment "Disabling CTR"
    Then the CLI output matches "Changes committed: <date>"
    And the CLI shows Threat Response "Disabled"

  @req:ENA-6 @cli
  Scenario: threatresponseconfig DISABLE says the feature is disabled; cleared before commit, it stays enabled
    Given the appliance is waiting for a registration token
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer  |
      | Choose the operation you want to perform: | DISABLE |
    Then the CLI output contains "The Cisco Threat Response feature is currently disabled on your appliance."
    When I run "clear" in the CLI and answer:
      | question | answer |
      |          | Y      |
    Then the CLI shows Threat Response "Enabled"

  @req:ENA-6 @cli
  Scenario: threatresponseconfig refuses an operation it does not offer
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer  |
      | Choose the operation you want to perform: | disable |
    Then the CLI output does not contain "The Cisco Threat Response feature is currently disabled on your appliance."
    And the CLI shows Threat Response "Disabled"
    And the CLI has no uncommitted changes

  @req:ENA-6 @cli
  Scenario: commit without pending changes has nothing to commit
    When I commit the changes in the CLI with comment "nothing"
    Then the CLI output contains "There is no data to commit."

  @req:ENA-6 @cli @gui @destructive
  Scenario: Disabling a registered appliance in the CLI leaves it unregistered
    Given the appliance is registered with Threat Response
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer  |
      | Choose the operation you want to perform: | DISABLE |
    And I commit the changes in the CLI with comment "Disabling CTR"
    Then the page shows "Threat Response:" as "Disabled"
    And the page shows the status "Enable the Cloud Services on your appliance to use the Cisco Threat Response portal."

  @req:ENA-8 @gui @device:gateway
  Scenario Outline: A content security gateway (<variant>) enables cloud services and shows a Register button
    Given the gateway uses the "<variant>" cloud service variant
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Enable"
    And I check "<checkbox>"
    And I choose "<server>" for "<server_field>"
    And I click "Submit"
    And I commit the changes in the GUI
    Then within the cloud_ready deadline the page shows a "Registration Token" field and a "Register" button

    Examples:
      | variant     | checkbox                    | server_field        | server                            |
      | securex     | Enable Cloud Service        | SecureX server      | AMERICAS (api-sse.cisco.com)      |
      | cisco-cloud | Enable Cisco Cloud Services | Cisco Secure server | EUROPE (api.eu.sse.itd.cisco.com) |
