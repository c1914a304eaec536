# Azure landing zone, maintained on Windows (CRLF line endings).
# Keep the line endings: the repo's .gitattributes marks *.tf as -text here.

terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 3.100"
    }
  }
}

provider "azurerm" {
  features {
    key_vault {
      purge_soft_delete_on_destroy = false
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
}

provider "azurerm" {
  alias           = "connectivity"
  subscription_id = var.connectivity_subscription_id
  features {}
}

variable "connectivity_subscription_id" {
  type      = string
  sensitive = true
}

variable "location" {
  type    = string
  default = "westeurope"
}

variable "teams" {
  type = map(object({
    cost_center = string
    admins      = list(string)
  }))
  default = {
    data = {
      cost_center = "cc-100"
      admins      = ["alice@acme.example"]
    }
    web = {
      cost_center = "cc-200"
      admins      = ["bob@acme.example", "carol@acme.example"]
    }
  }
}

locals {
  tags = {
    "managed-by" = "terraform"
    "landing"    = "acme-lz"
  }
  team_rg_names = { for team, cfg in var.teams : team => "rg-${team}-${var.location}" }
}

resource "azurerm_resource_group" "team" {
  for_each = var.teams
  name     = local.team_rg_names[each.key]
  location = var.location
  tags     = merge(local.tags, { "cost-center" = each.value.cost_center })
}

resource "azurerm_virtual_network" "hub" {
  provider            = azurerm.connectivity
  name                = "vnet-hub-${var.location}"
  location            = var.location
  resource_group_name = "rg-connectivity"
  address_space       = ["10.0.0.0/16"]

  dynamic "subnet" {
    for_each = {
      GatewaySubnet       = "10.0.0.0/24"
      AzureFirewallSubnet = "10.0.1.0/24"
      shared              = "10.0.2.0/24"
    }
    content {
      name           = subnet.key
      address_prefix = subnet.value
    }
  }
}

# tfpilot:begin/req-az-01
module "storage_account_req_az_01" {
  source = "../../modules/azure-storage"

  name                = "acmedatalake01"
  resource_group_name = "rg-data-westeurope"
  replication         = "ZRS"
}
# tfpilot:end/req-az-01

resource "azurerm_policy_definition" "allowed_locations" {
  name         = "allowed-locations"
  policy_type  = "Custom"
  mode         = "Indexed"
  display_name = "Allowed locations"

  policy_rule = <<POLICY
{
  "if": {
    "not": {
      "field": "location",
      "in": "[parameters('allowedLocations')]"
    }
  },
  "then": {
    "effect": "deny"
  }
}
POLICY

  parameters = <<PARAMS
{
  "allowedLocations": {
    "type": "Array",
    "metadata": {
      "description": "The list of allowed locations for resources.",
      "displayName": "Allowed locations",
      "strongType": "location"
    }
  }
}
PARAMS
}

resource "azurerm_role_assignment" "team_admins" {
  for_each = merge([
    for team, cfg in var.teams : {
      for admin in cfg.admins : "${team}/${admin}" => {
        team  = team
        admin = admin
      }
    }
  ]...)
  scope                = azurerm_resource_group.team[each.value.team].id
  role_definition_name = "Owner"
  principal_id         = data.azuread_user.admin[each.value.admin].object_id
}

data "azuread_user" "admin" {
  for_each            = toset(flatten([for t in var.teams : t.admins]))
  user_principal_name = each.value
}

resource "azurerm_key_vault" "team" {
  for_each                   = var.teams
  name                       = "kv-${each.key}-acme"
  location                   = var.location
  resource_group_name        = azurerm_resource_group.team[each.key].name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  soft_delete_retention_days = 30
  purge_protection_enabled   = true

  network_acls {
    default_action = "Deny"
    bypass         = "AzureServices"
  }
}

data "azurerm_client_config" "current" {}

# tfpilot:begin/req-az-02
module "postgres_flexible_req_az_02" {
  source  = "../../modules/azure-postgres-flexible"
  version = "0.9.1"

  server_name = "psql-web-dev"
  sku_name    = "B_Standard_B1ms"
  storage_mb  = 32768
}
# tfpilot:end/req-az-02

resource "azurerm_log_analytics_workspace" "central" {
  name                = "law-central-${var.location}"
  location            = var.location
  resource_group_name = "rg-management"
  sku                 = "PerGB2018"
  retention_in_days   = 90
  tags                = local.tags
}

resource "azurerm_monitor_diagnostic_setting" "key_vault" {
  for_each                   = azurerm_key_vault.team
  name                       = "diag-${each.key}"
  target_resource_id         = each.value.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.central.id

  dynamic "enabled_log" {
    for_each = ["AuditEvent", "AzurePolicyEvaluationDetails"]
    content {
      category = enabled_log.value
    }
  }

  metric {
    category = "AllMetrics"
    enabled  = true
  }
}

output "resource_group_ids" {
  value = { for k, rg in azurerm_resource_group.team : k => rg.id }
}
