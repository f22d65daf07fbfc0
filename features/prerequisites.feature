@prerequisites
Feature: Prerequisites of the Threat Response integration
  Before an appliance can be integrated, the documents require an administrator account in
  SecureX / Threat Response, Threat Response enabled on SSE's Cloud Services tab, and (for
  reregistration) smart software licensing with the appliance registered in Cisco Smart Software
  Manager. A Threat Response tenant reached through the APJC regional URL is not supported by the
  12.5/13.x releases.

  Background:
    Given the appliance starts with cloud services disabled

  @req:PRE-1
  Scenario: The testbed's Threat Response account signs in with administrator rights
    When I sign in to Threat Response with the testbed's API client
    Then the sign-in succeeds
    And the account can configure integration modules and read the registered devices

  @req:PRE-1 @region:eu
  Scenario: An account of one region does not sign in to another region's Threat Response
    When I sign in to the "eu" Threat Response with the "nam" API client
    Then the sign-in is refused

  @req:PRE-1 @req:RIB-3
  Scenario: A wrong client password is refused
    When I sign in to Threat Response with the testbed's API client and the password "not-the-password"
    Then the sign-in is refused

  @req:PRE-2 @req:TS-1
  Scenario: A fresh SSE tenant starts with Cisco Threat Response disabled on its Cloud Services tab
    Given a fresh SSE tenant
    Then SSE Cloud Services shows "Cisco Threat Response" as disabled

  @req:PRE-2
  Scenario: Threat Response can be enabled on SSE's Cloud Services tab
    Given Threat Response is disabled in SSE Cloud Services
    When I enable "Cisco Threat Response" in SSE Cloud Services
    Then SSE Cloud Services shows "Cisco Threat Response" as enabled

  @req:PRE-2 @req:TS-1
  Scenario: Without Threat Response enabled in SSE, a registered appliance is not offered to modules
    Given the appliance is registered with Threat Response
    And Threat Response is disabled in SSE Cloud Services
    When I open the "Registered Device" choices of a new "Email Security Appliance" module
    Then the choices do not include the appliance

  @req:PRE-6 @req:REG-9 @manual:needs-an-appliance-without-smart-licensing @destructive @cli
  Scenario Outline: Reregistration needs smart licensing and registration in Cisco Smart Software Manager
    Given the appliance runs AsyncOS "14.0.0-692"
    And the appliance is registered with Threat Response
    And <missing>
    When I reregister the appliance through the CLI
    Then the CLI output contains "Smart Software Licensing"
    And the appliance is still registered with Threat Response

    Examples:
      | missing                                                                |
      | smart software licensing is disabled on the appliance                  |
      | the appliance is not registered with Cisco Smart Software Manager      |

  @req:PRE-7 @req:ENA-3 @cli
  Scenario: A 13.x appliance offers no APJC server in the CLI
    When I run "cloudserviceconfig" in the CLI and answer:
      | question                                  | answer |
      | Choose the operation you want to perform: | SETTRS |
    Then the CLI output contains "EUROPE (api.eu.sse.itd.cisco.com)"
    And the CLI output contains "AMERICAS (api-sse.cisco.com)"
    And the CLI output does not contain "api.apj.sse.itd.cisco.com"

  @req:PRE-7 @req:ENA-3 @gui
  Scenario: A 13.x appliance offers no APJC server in the GUI
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Edit Settings"
    Then the "Threat Response Server" choices are:
      | AMERICAS (api-sse.cisco.com)      |
      | EUROPE (api.eu.sse.itd.cisco.com) |

  @req:PRE-7 @region:apjc
  Scenario: The APJC regional Threat Response does not list a 13.x appliance registered in the Americas
    Given the appliance is registered with Threat Response
    When I list the devices in the "apjc" Threat Response
    Then the list does not include the appliance
