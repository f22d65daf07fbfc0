@reregistration
Feature: Reregistering the appliance with the Cisco Cloud Services portal
  Network > Cloud Service Settings > Reregister (or cloudserviceconfig > REREGISTER): optionally choose
  the right Cisco Secure server, optionally give a token for another smart account. Without a token a
  "Confirm reregistration" dialog appears and the appliance reregisters with an auto-generated token
  and its smart account. Reregistration needs smart licensing and registration with Cisco Smart
  Software Manager.

  Background:
    Given the appliance starts with cloud services disabled
    And the appliance runs AsyncOS "14.0.0-692"
    And the appliance is registered with Threat Response

  @req:REG-9 @gui
  Scenario: Reregistering without a token asks for confirmation and uses the smart account
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Reregister"
    And I click "Submit"
    Then the page shows "Confirm reregistration"
    When I click "Submit"
    Then within the registration deadline the appliance is registered with Threat Response
    And the "nam" SSE lists the appliance as "Registered"

  @req:REG-9 @gui
  Scenario: Reregistering with a token for another smart account asks no confirmation
    Given a registration token from the "nam" SSE
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Reregister"
    And I enter "<token>" into "Registration Token"
    And I click "Submit"
    Then the page does not show "Confirm reregistration"
    And within the registration deadline the appliance is registered with Threat Response

  @req:REG-9 @req:REG-6 @gui @region:eu @destructive
  Scenario: Reregistering can correct a wrongly chosen Cisco Secure server
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Reregister"
    And I choose "EUROPE (api.eu.sse.itd.cisco.com)" for "Cisco Secure Server"
    And I click "Submit"
    And I click "Submit"
    Then within the registration deadline the appliance is registered with Threat Response
    And the "eu" SSE lists the appliance as "Registered"
    And the page shows "Threat Response Server:" as "EUROPE (api.eu.sse.itd.cisco.com)"

  @req:REG-9 @gui
  Scenario: Cancelling the confirmation keeps the registration as it was
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Reregister"
    And I click "Submit"
    And I click "Cancel"
    Then the appliance is still registered with Threat Response

  @req:REG-9 @cli
  Scenario: cloudserviceconfig offers REREGISTER on a registered SecureX-era appliance
    When I run "cloudserviceconfig" in the CLI
    Then the CLI offers the operation "REREGISTER"
    When I reregister the appliance through the CLI
    Then within the registration deadline the appliance is registered with Threat Response
