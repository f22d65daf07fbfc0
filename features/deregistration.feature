@deregistration
Feature: Deregistering the appliance
  Once registered, cloudserviceconfig says the appliance "is successfully registered with the Cisco
  Threat Response portal" and offers DEREGISTER and SETTRS. DEREGISTER asks for confirmation with the
  default No ([N]>), warns that Cloud Service features become unavailable, and on yes prints that the
  deregistration is in progress. The GUI has a Deregister button on Cloud Services Settings.

  Background:
    Given the appliance starts with cloud services disabled
    And the appliance is registered with Threat Response

  @req:REG-5 @cli
  Scenario: cloudserviceconfig on a registered appliance offers DEREGISTER and SETTRS
    When I run "cloudserviceconfig" in the CLI
    Then the CLI output contains "The <product> is successfully registered with the Cisco Threat Response portal."
    And the CLI offers only the operations "DEREGISTER, SETTRS"
    And the CLI output contains "DEREGISTER - To deregister the appliance from the Cisco Threat Response portal."

  @req:REG-5 @cli @destructive
  Scenario: Deregistering in the CLI, as the user guide transcript shows it
    When I run "cloudserviceconfig" in the CLI and answer:
      | question                                                                                  | answer     |
      | Choose the operation you want to perform:                                                 | deregister |
      | If you deregister, you will not be able to access the Cloud Service features. [N]>       | yes        |
    Then the CLI output contains "Do you want to deregister your appliance from the Cisco Threat Response portal."
    And the CLI output contains "The <product> deregistration is in progress."
    And within the deregistration deadline the appliance asks for a registration token again
    And the "nam" SSE does not list the appliance as "Registered"

  @req:REG-5 @cli
  Scenario Outline: Answering "<answer>" to the deregistration question keeps the registration
    When I run "cloudserviceconfig" in the CLI and answer:
      | question                                                                            | answer     |
      | Choose the operation you want to perform:                                           | DEREGISTER |
      | If you deregister, you will not be able to access the Cloud Service features. [N]> | <answer>   |
    Then the CLI output does not contain "deregistration is in progress"
    And the appliance is still registered with Threat Response

    Examples:
      | answer |
      |        |
      | no     |
      | N      |

  @req:REG-5 @gui @destructive
  Scenario: Deregistering with the GUI's Deregister button
    When I open "Network > Cloud Service Settings" in the GUI
    And I click "Deregister"
    Then the page shows the status "The <product> deregistration is in progress."
    And within the deregistration deadline the page shows a "Registration Token" field and a "Register" button
    And the "nam" SSE does not list the appliance as "Registered"

  @req:REG-5 @destructive
  Scenario Outline: After deregistering through the <interface> the appliance can register again
    When I deregister the appliance through the <interface>
    And I register the appliance with a new token from the "nam" SSE through the <interface>
    Then within the registration deadline the appliance is registered with Threat Response
    And the "nam" SSE lists the appliance as "Registered"

    @gui
    Examples:
      | interface |
      | GUI       |

    @cli
    Examples:
      | interface |
      | CLI       |
