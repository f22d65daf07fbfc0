@cluster
Feature: Clusters, machine mode and batch commands
  threatresponseconfig and cloudserviceconfig are restricted to machine mode and support the batch
  format. In a cluster only the logged-in appliance, in machine mode, can register; an appliance
  registered standalone must be deregistered before it joins a cluster.

  Background:
    Given the appliance starts with cloud services disabled

  @req:ENA-7 @req:REG-10 @req:REG-7 @cli
  Scenario Outline: <command> is refused in <mode> mode
    Given the appliance is a member of cluster "ctrlab-cluster"
    When I run "clustermode <mode>" in the CLI
    And I run "<command>" in the CLI
    Then the CLI refuses the command outside machine mode

    Examples:
      | command              | mode    |
      | threatresponseconfig | cluster |
      | threatresponseconfig | group   |
      | cloudserviceconfig   | cluster |
      | cloudserviceconfig   | group   |

  @req:ENA-7 @cli
  Scenario: threatresponseconfig works in machine mode
    Given the appliance is a member of cluster "ctrlab-cluster"
    When I run "clustermode machine" in the CLI
    Then the CLI prompt is "(Machine <hostname>)> "
    When I run "threatresponseconfig" in the CLI and answer:
      | question                                  | answer |
      | Choose the operation you want to perform: | ENABLE |
    And I commit the changes in the CLI with comment "cluster member"
    Then the CLI output matches "Changes committed: <date>"
    And within the cloud_ready deadline the CLI asks for a registration token

  @req:REG-7 @req:REG-10 @cli
  Scenario: The logged-in appliance registers in machine mode
    Given the appliance is a member of cluster "ctrlab-cluster"
    And the appliance is waiting for a registration token
    When I run "clustermode machine" in the CLI
    And I register the appliance with a new token from the "nam" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response

  @req:REG-7 @cli
  Scenario: Registration is refused in cluster mode, and works after switching to machine mode
    Given the appliance is a member of cluster "ctrlab-cluster"
    And the appliance is waiting for a registration token
    When I run "clustermode cluster" in the CLI
    And I run "cloudserviceconfig" in the CLI
    Then the CLI refuses the command outside machine mode
    When I run "clustermode machine" in the CLI
    And I register the appliance with a new token from the "nam" SSE through the CLI
    Then within the registration deadline the appliance is registered with Threat Response

  @req:REG-7 @cli @destructive
  Scenario: An appliance registered standalone must be deregistered before it joins a cluster
    Given the appliance is registered with Threat Response
    When I join the appliance to cluster "ctrlab-cluster" in the CLI
    Then the CLI prompt is "<hostname>> "
    And the CLI output contains "Deregister the appliance"
    When I deregister the appliance through the CLI
    And I join the appliance to cluster "ctrlab-cluster" in the CLI
    Then the CLI prompt is "(Cluster ctrlab-cluster)> "

  @req:REG-7 @cli
  Scenario: A registered standalone appliance is refused when it tries to join a cluster, and stays registered
    Given the appliance is registered with Threat Response
    When I join the appliance to cluster "ctrlab-cluster" in the CLI
    Then the CLI prompt is "<hostname>> "
    And the appliance is still registered with Threat Response

  @req:ENA-7 @cli
  Scenario: threatresponseconfig supports the batch format
    When I run "threatresponseconfig enable" in the CLI
    And I commit the changes in the CLI with comment "batch"
    Then the CLI output matches "Changes committed: <date>"
    And the CLI shows Threat Response "Enabled"

  @req:ENA-7 @cli @destructive
  Scenario: threatresponseconfig disables in the batch format
    Given the appliance is waiting for a registration token
    When I run "threatresponseconfig disable" in the CLI
    And I commit the changes in the CLI with comment "batch"
    Then the CLI shows Threat Response "Disabled"

  @req:REG-10 @req:REG-3 @cli
  Scenario: cloudserviceconfig registers in the batch format
    Given the appliance is waiting for a registration token
    And a registration token from the "nam" SSE
    When I run "cloudserviceconfig register <token>" in the CLI
    Then the CLI output contains "The appliance registration is in progress."
    And within the registration deadline the appliance is registered with Threat Response

  @req:REG-10 @cli @gui @region:eu
  Scenario: cloudserviceconfig selects the server in the batch format
    Given the appliance is waiting for a registration token
    When I run "cloudserviceconfig settrs EUROPE" in the CLI
    Then the CLI output contains "Selected threat response server is api.eu.sse.itd.cisco.com."
    When I commit the changes in the CLI
    Then the page shows "Threat Response Server:" as "EUROPE (api.eu.sse.itd.cisco.com)"
